// hbfence's Grafana dashboards as a monitoring mixin: grafanaDashboards maps each file
// name to a dashboard. alerts/mixin.libsonnet adds the rules; dashboards/render writes
// the JSON files.
(import 'hbfence-fleet.libsonnet') +
(import 'hbfence-host.libsonnet') +
{
  _config+:: {
    // Tags of every dashboard; the dashboards link to each other by the first one.
    dashboardTags: ['hbfence'],
    refresh: '30s',
    // Start of the default time range.
    timeFrom: 'now-6h',
  },
}
