// Swagger UI for the portal's OpenAPI document, from the vendored bundle (no CDN).
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
