// SPDX-License-Identifier: Apache-2.0

// Used by alerts/generate: the mixin, with the overrides in the top-level argument
// `overrides` (a jsonnet object, e.g. { _config+:: { hbfenceSelector: 'job="kvm"' } }),
// rendered as `part`: the rule file's YAML after `header` (rules, a string for -S), its
// data (rulesData, to check the YAML against) or the dashboards (dashboards, file name
// -> dashboard, for -m).
local yaml = import 'yaml.libsonnet';

function(overrides={}, header='', part='rules')
  local mixin = (import '../mixin.libsonnet') + overrides;
  local sel = mixin._config.hbfenceSelector;
  assert std.isString(sel) && std.length(std.stripChars(sel, ' ')) > 0 : '_config.hbfenceSelector must not be empty';
  local data = { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups };
  local names = std.objectFields(mixin.grafanaDashboards);
  assert std.length([
    n
    for n in names
    if !std.endsWith(n, '.json') || std.startsWith(n, '.')
       || std.length([ch for ch in std.stringChars(n) if ch == '/' || ch == '\n' || ch == '\\']) > 0
  ]) == 0 : 'grafanaDashboards keys must be file names ending in .json: %s' % [names];
  {
    rules: header + yaml.manifest(data),
    rulesData: data,
    dashboards: mixin.grafanaDashboards,
  }[part]
