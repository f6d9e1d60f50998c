// SPDX-License-Identifier: Apache-2.0

// Plain-jsonnet constructors for Grafana 10.4 panels (schemaVersion 39), enough for
// hbfence's two dashboards; no grafonnet. A panel is built from a constructor and patches:
//
//   g.timeseries('Title', 'Description', [g.q('expr', '{{instance}}')])
//   + g.unit('s') + g.legend(['max']) + g.overrides([g.byName('log-only', g.color('red'))])
//
// Queries get refIds A, B, C... in order, so tables refer to their columns as 'Value #B'.
// Every data source reference is the `datasource` template variable.
{
  ds:: { type: 'prometheus', uid: '${datasource}' },

  // Queries.
  local query(expr, legend, instant) = {
    datasource: $.ds,
    editorMode: 'code',
    expr: expr,
    legendFormat: legend,
    range: !instant,
    instant: instant,
  },
  // A range query (time series).
  q(expr, legend='__auto'):: query(expr, legend, false),
  // An instant query (stats, bar gauges).
  qi(expr, legend='__auto'):: query(expr, legend, true),
  // An instant query as a table (table panels; columns 'Value #<refId>').
  qt(expr):: query(expr, '__auto', true) + { format: 'table' },

  // Thresholds: green from -inf, then [color, from] pairs.
  thresholds(steps=[]):: {
    mode: 'absolute',
    steps: [{ color: 'green', value: null }] + [{ color: s[0], value: s[1] } for s in steps],
  },
  // A value mapping: [value, text, color] triples, in display order.
  valueMap(entries):: [{
    type: 'value',
    options: {
      [entries[i][0]]: { index: i, text: entries[i][1], color: entries[i][2] }
      for i in std.range(0, std.length(entries) - 1)
    },
  }],

  // Field overrides: matcher plus properties given as an object {property id: value}.
  local override(id, options, props) = {
    matcher: { id: id, options: options },
    properties: [{ id: k, value: props[k] } for k in std.objectFields(props)],
  },
  byName(name, props):: override('byName', name, props),
  byRegexp(regexp, props):: override('byRegexp', regexp, props),
  // Property values used in overrides.
  color(c):: { color: { mode: 'fixed', fixedColor: c } },
  dashed:: { 'custom.lineStyle': { fill: 'dash', dash: [10, 10] } },
  // A series drawn as a threshold: dashed, 2 px, not filled, not stacked.
  referenceLine(c):: {
    'custom.fillOpacity': 0,
    'custom.lineWidth': 2,
    'custom.stacking': { mode: 'none', group: 'A' },
  } + $.color(c) + $.dashed,

  // Patches.
  defaults(o):: { fieldConfig+: { defaults+: o } },
  custom(o):: { fieldConfig+: { defaults+: { custom+: o } } },
  unit(u):: $.defaults({ unit: u }),
  decimals(d):: $.defaults({ decimals: d }),
  noValue(text):: $.defaults({ noValue: text }),
  min(m):: $.defaults({ min: m }),
  max(m):: $.defaults({ max: m }),
  steps(s):: $.defaults({ thresholds: $.thresholds(s) }),
  mappings(entries):: $.defaults({ mappings: $.valueMap(entries) }),
  overrides(list):: { fieldConfig+: { overrides+: list } },
  options(o):: { options+: o },
  transformations(list):: { transformations+: list },
  // The minimum step of the panel's queries.
  interval(i):: { interval: i },
  pos(id, x, y, w, h):: { id: id, gridPos: { h: h, w: w, x: x, y: y } },

  local panel(type, title, description, targets) = {
    type: type,
    title: title,
    description: description,
    datasource: $.ds,
    targets: [targets[i] { refId: std.char(65 + i) } for i in std.range(0, std.length(targets) - 1)],
    fieldConfig: { defaults: {}, overrides: [] },
    options: {},
  },

  local reduce = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } },

  // Time series: lines, filled 10 %, y from 0; legend a table with max and last.
  timeseries(title, description, targets)::
    panel('timeseries', title, description, targets) + {
      fieldConfig+: { defaults+: {
        unit: 'short',
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 4,
          spanNulls: false,
          lineInterpolation: 'linear',
          axisPlacement: 'auto',
          axisLabel: '',
          axisSoftMin: 0,
          barAlignment: 0,
          stacking: { mode: 'none', group: 'A' },
          thresholdsStyle: { mode: 'off' },
          hideFrom: { legend: false, tooltip: false, viz: false },
          scaleDistribution: { type: 'linear' },
        },
        thresholds: $.thresholds(),
        mappings: [],
        min: 0,
      } },
      options: {
        legend: { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['max', 'lastNotNull'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    },
  // Time series patches.
  legend(calcs):: { options+: { legend+: { calcs: calcs } } },
  bars:: $.custom({ drawStyle: 'bars', fillOpacity: 80 }),
  stacked:: $.custom({ stacking: { mode: 'normal', group: 'A' } }),
  stepAfter:: $.custom({ lineInterpolation: 'stepAfter' }),
  dashedThresholds:: $.custom({ thresholdsStyle: { mode: 'dashed' } }),

  // Stat: last value, background colour from the thresholds, no sparkline.
  stat(title, description, targets)::
    panel('stat', title, description, targets) + {
      fieldConfig+: { defaults+: {
        unit: 'short',
        color: { mode: 'thresholds' },
        thresholds: $.thresholds(),
        mappings: [],
      } },
      options: reduce {
        orientation: 'auto',
        textMode: 'auto',
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'auto',
        wideLayout: true,
        showPercentChange: false,
      },
    },
  textMode(m):: $.options({ textMode: m }),
  colorMode(m):: $.options({ colorMode: m }),

  // Bar gauge: horizontal, one bar per series.
  bargauge(title, description, targets, displayMode='basic')::
    panel('bargauge', title, description, targets) + {
      fieldConfig+: { defaults+: {
        unit: 'short',
        color: { mode: 'thresholds' },
        thresholds: $.thresholds(),
        mappings: [],
      } },
      options: reduce {
        orientation: 'horizontal',
        displayMode: displayMode,
        valueMode: 'color',
        showUnfilled: true,
        namePlacement: 'auto',
        sizing: 'auto',
        minVizWidth: 8,
        minVizHeight: 16,
        maxVizHeight: 300,
      },
    },

  // Table of instant queries, merged on their labels, then organised:
  // exclude (column names), order (column names, in display order).
  table(title, description, targets, exclude=['Time'], order=[], sortBy=[])::
    panel('table', title, description, targets) + {
      fieldConfig+: { defaults+: {
        unit: 'short',
        color: { mode: 'thresholds' },
        thresholds: $.thresholds(),
        mappings: [],
        custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false, filterable: false },
      } },
      options: {
        showHeader: true,
        cellHeight: 'sm',
        footer: { show: false, reducer: ['sum'], countRows: false },
        sortBy: [{ displayName: s, desc: true } for s in sortBy],
      },
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: {
          excludeByName: { [c]: true for c in exclude },
          indexByName: { [order[i]]: i for i in std.range(0, std.length(order) - 1) },
          renameByName: {},
          includeByName: {},
        } },
      ],
    },

  // State timeline: one row per series, values merged.
  stateTimeline(title, description, targets)::
    panel('state-timeline', title, description, targets) + {
      fieldConfig+: { defaults+: {
        color: { mode: 'thresholds' },
        thresholds: $.thresholds(),
        mappings: [],
        custom: { fillOpacity: 80, lineWidth: 0, hideFrom: { legend: false, tooltip: false, viz: false } },
      } },
      options: {
        mergeValues: true,
        showValue: 'auto',
        alignValue: 'left',
        rowHeight: 0.9,
        legend: { showLegend: true, displayMode: 'list', placement: 'bottom' },
        tooltip: { mode: 'single', sort: 'none' },
      },
    },

  // Heatmap of pre-bucketed data (format heatmap, le rows).
  heatmap(title, description, targets)::
    panel('heatmap', title, description, [t { format: 'heatmap' } for t in targets]) + {
      fieldConfig+: { defaults+: {
        custom: { hideFrom: { legend: false, tooltip: false, viz: false }, scaleDistribution: { type: 'linear' } },
      } },
      options: {
        calculate: false,
        cellGap: 1,
        cellValues: { unit: 'ops' },
        color: {
          mode: 'scheme',
          scheme: 'Oranges',
          fill: 'dark-orange',
          scale: 'exponential',
          exponent: 0.5,
          steps: 64,
          reverse: false,
        },
        exemplars: { color: 'rgba(255,0,255,0.7)' },
        filterValues: { le: 1e-09 },
        legend: { show: true },
        rowsFrame: { layout: 'le' },
        showValue: 'never',
        tooltip: { mode: 'single', show: true, yHistogram: true, showColorScale: false },
        yAxis: { axisPlacement: 'left', reverse: false, unit: 's' },
      },
    },

  // A row; collapsed rows carry their panels.
  row(title, panels=[], collapsed=false):: {
    type: 'row',
    title: title,
    collapsed: collapsed,
    panels: panels,
  },

  // Template variables.
  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    options: [],
    refresh: 1,
    regex: '',
    hide: 0,
    includeAll: false,
    multi: false,
    skipUrlSync: false,
  },
  // A query variable over label_values(); multi and All ('.*') unless told otherwise.
  queryVariable(name, label, query, multi=true, includeAll=true):: {
    name: name,
    label: label,
    type: 'query',
    datasource: $.ds,
    definition: query,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    regex: '',
    sort: 1,
    multi: multi,
    includeAll: includeAll,
    [if includeAll then 'allValue']: '.*',
    current: if includeAll then { selected: true, text: ['All'], value: ['$__all'] } else {},
    options: [],
    hide: 0,
    skipUrlSync: false,
  },

  // An annotation from a PromQL query: one mark per series and step.
  annotation(name, color, expr, title, text, tagKeys):: {
    name: name,
    enable: true,
    hide: false,
    iconColor: color,
    datasource: $.ds,
    expr: expr,
    step: '1m',
    titleFormat: title,
    textFormat: text,
    tagKeys: tagKeys,
    useValueForTime: false,
  },

  // A dashboard: shared crosshair, a link to the other dashboards with the same tags
  // (keeping the variables and the time range).
  dashboard(uid, title, description, tags, refresh, time, variables, annotations, panels):: {
    description: description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [{
      title: 'hbfence',
      type: 'dashboards',
      tags: tags,
      asDropdown: false,
      includeVars: true,
      keepTime: true,
      icon: 'external link',
      targetBlank: false,
      tooltip: '',
      url: '',
    }],
    liveNow: false,
    refresh: refresh,
    schemaVersion: 39,
    tags: tags,
    time: { from: time, to: 'now' },
    timepicker: {},
    timezone: '',
    title: title,
    uid: uid,
    version: 1,
    weekStart: '',
    templating: { list: variables },
    annotations: { list: annotations },
    panels: panels,
  },
}
