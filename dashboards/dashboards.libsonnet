// Placeholder until the dashboards are written in jsonnet: no dashboards yet.
{ grafanaDashboards+:: {} }
