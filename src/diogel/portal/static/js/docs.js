// Swagger UI for the portal's OpenAPI document, from the vendored bundle (no CDN).
// validatorUrl null: by default Swagger UI sends the document to validator.swagger.io for a badge,
// which a closed council network cannot reach (and the portal's data description should not leave it).
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
});
