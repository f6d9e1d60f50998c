// SPDX-License-Identifier: Apache-2.0

// The hbfence monitoring mixin: recording rules (prometheusRules), alerts
// (prometheusAlerts) and Grafana dashboards (grafanaDashboards), configured by
// _config (config.libsonnet). alerts/generate renders it into the shipped files;
// alerts/README.md shows how to render your own.
(import 'config.libsonnet') +
(import 'rules.libsonnet') +
(import 'alerts.libsonnet') +
(import '../dashboards/dashboards.libsonnet')
