"""The portal's read models: what it reads from the warehouse (dashboards, record and aggregate views,
public tables), one module per concern, all behind one cache (:mod:`.cache`).

Every figure comes from the warehouse through the counting rules (:mod:`diogel.warehouse.counting`)
and the analysis modules; nothing here re-implements a statistic. Results are cached per area and
warehouse version, so fifty people opening the dashboard at once cost one computation.
:class:`diogel.portal.views.WarehouseViews` puts the modules together.
"""
