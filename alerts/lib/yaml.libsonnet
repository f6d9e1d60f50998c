// SPDX-License-Identifier: Apache-2.0

// A YAML writer for Prometheus rule files that reads like a hand-written one:
// std.manifestYamlDoc quotes every string and sorts keys, so `for: 5m` would become
// `"for": "5m"` with `annotations` before `expr`. This one keeps rule keys in the
// usual order (name, rules, alert/record, expr, for, labels, annotations; severity,
// summary, description, runbook_url), writes plain scalars where YAML cannot read
// them as anything but that string, multi-line strings as literal blocks (|), long
// single-line texts as folded blocks (>-) and everything else double-quoted.
// alerts/lib/render.jsonnet parses the result back and checks it equals the input.
{
  local order = [
    'name', 'interval', 'rules',
    'alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations',
    'severity', 'summary', 'description', 'runbook_url',
  ],
  local ranks = { [order[i]]: '%03d' % i for i in std.range(0, std.length(order) - 1) },
  local rank(k) = if std.objectHas(ranks, k) then ranks[k] else '999' + k,
  local keys(o) = std.sort(std.objectFields(o), rank),

  local width = 96,
  local ind(n) = std.repeat(' ', n),

  // (std.member on a string takes milliseconds: code points instead.)
  local isLetter(ch) = local cp = std.codepoint(ch); (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122),
  local isDigit(ch) = local cp = std.codepoint(ch); cp >= 48 && cp <= 57,
  local durationUnits = ['ms', 's', 'm', 'h', 'd', 'w', 'y'],
  // YAML 1.1 (Go's yaml.v2, which Prometheus uses) reads these as booleans or null.
  local reserved = ['y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null'],

  // s contains sub (std.findSubstr is slow: a rules file took 20 s).
  local has(s, sub) = std.strReplace(s, sub, '') != s,
  local isDuration(s) =
    local n = std.length(s);
    n <= 8 && std.length([
      u
      for u in durationUnits
      if n > std.length(u) && std.endsWith(s, u)
         && std.length([ch for ch in std.stringChars(std.substr(s, 0, n - std.length(u))) if !isDigit(ch)]) == 0
    ]) > 0,
  // One line that starts with a letter, where nothing starts a comment (` #`) or a
  // mapping (`: `, a last `:`), and that is no boolean: read back as that string.
  local isPlain(s) =
    s != ''
    && (
      isDuration(s)
      || (
        isLetter(s[0])
        && !has(s, '\n')
        && !has(s, '\t')
        && !has(s, ': ')
        && !has(s, ' #')
        && !std.endsWith(s, ':')
        && !std.endsWith(s, ' ')
        && !(std.length(s) <= 5 && std.member(reserved, std.asciiLower(s)))
      )
    ),
  // Folding joins lines with one space: safe for one line without runs of spaces.
  local isFoldable(s) =
    s != '' && !has(s, '\n') && !has(s, '\t')
    && !has(s, '  ') && s[0] != ' ' && s[std.length(s) - 1] != ' ',
  // Literal blocks: the first line decides the indentation, so it may not start with one.
  local isLiteral(s) = has(s, '\n') && s[0] != ' ' && s[0] != '\n'
                       && !has(s, '\t'),

  // Lines of at most w characters where the words allow; never breaks right inside a
  // template action's braces (`{{ x`, `x }}`), so the templates stay readable.
  local wrap(s, w) =
    local merged = std.foldl(
      function(a, word)
        if a.cur != null && (std.endsWith(a.cur, '{{') || std.startsWith(word, '}}'))
        then a { cur: a.cur + ' ' + word }
        else { done: if a.cur == null then a.done else a.done + [a.cur], cur: word },
      std.split(s, ' '),
      { done: [], cur: null }
    );
    local acc = std.foldl(
      function(a, word)
        if a.cur == '' then a { cur: word }
        else if std.length(a.cur) + 1 + std.length(word) <= w then a { cur: a.cur + ' ' + word }
        else { lines: a.lines + [a.cur], cur: word },
      merged.done + [merged.cur],
      { lines: [], cur: '' }
    );
    acc.lines + [acc.cur],

  // How many newlines s ends with (std.rstripChars is slow on long strings).
  local trailingNewlines(s) =
    local n = std.length(s);
    local go(i) = if i < n && s[n - 1 - i] == '\n' then go(i + 1) else i;
    go(0),

  // The text after `key: ` or `- `, and the block lines that follow it (at indent n).
  local scalar(v, n) =
    if std.isString(v) then
      // Long template texts (annotations) are folded; long expressions stay one line.
      local text = has(v, '{{');
      local long = std.length(v) + n > width;
      if isPlain(v) && !(text && long && isFoldable(v)) then { head: v, lines: [] }
      else if isLiteral(v) then
        local trailing = trailingNewlines(v);
        local body = std.substr(v, 0, std.length(v) - trailing);
        {
          head: if trailing == 0 then '|-' else if trailing == 1 then '|' else '|+',
          lines: [if l == '' then '' else ind(n) + l for l in std.split(body, '\n')]
                 + (if trailing > 1 then std.makeArray(trailing - 1, function(_) '') else []),
        }
      else if isFoldable(v) && long then
        { head: '>-', lines: [ind(n) + l for l in wrap(v, std.max(40, width - n))] }
      else { head: std.escapeStringJson(v), lines: [] }
    else if std.isBoolean(v) || std.isNumber(v) || v == null then { head: std.manifestJson(v), lines: [] }
    else if std.isArray(v) && std.length(v) == 0 then { head: '[]', lines: [] }
    else if std.isObject(v) && std.length(std.objectFields(v)) == 0 then { head: '{}', lines: [] }
    else error 'not a scalar',

  local isCollection(v) =
    (std.isArray(v) && std.length(v) > 0) || (std.isObject(v) && std.length(std.objectFields(v)) > 0),
  local key(k) = if isPlain(k) then k else std.escapeStringJson(k),

  local objectLines(o, n) = std.flattenArrays([fieldLines(k, o[k], n) for k in keys(o)]),
  local arrayLines(a, n) = std.flattenArrays([itemLines(x, n) for x in a]),
  local fieldLines(k, v, n) =
    if std.isObject(v) && isCollection(v) then [ind(n) + key(k) + ':'] + objectLines(v, n + 2)
    else if std.isArray(v) && isCollection(v) then [ind(n) + key(k) + ':'] + arrayLines(v, n + 2)
    else
      local s = scalar(v, n + 2);
      [ind(n) + key(k) + ': ' + s.head] + s.lines,
  // A collection item: its lines at n + 2, the first one's indentation turned into `- `.
  local itemLines(v, n) =
    if isCollection(v) then
      local inner = if std.isObject(v) then objectLines(v, n + 2) else arrayLines(v, n + 2);
      [ind(n) + '- ' + std.substr(inner[0], n + 2, std.length(inner[0]))] + inner[1:]
    else
      local s = scalar(v, n + 2);
      [ind(n) + '- ' + s.head] + s.lines,

  // An object as a YAML document: one line per element, ending with a newline.
  manifest(o):: std.join('\n', objectLines(o, 0)) + '\n',
}
