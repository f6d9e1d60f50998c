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
  local rank(k) =
    local i = std.find(k, order);
    if std.length(i) > 0 then '%03d' % i[0] else '999' + k,
  local keys(o) = std.sort(std.objectFields(o), rank),

  local width = 96,
  local ind(n) = std.repeat(' ', n),

  local letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  local digits = '0123456789',
  local durationUnits = ['ms', 's', 'm', 'h', 'd', 'w', 'y'],
  // YAML 1.1 (Go's yaml.v2, which Prometheus uses) reads these as booleans or null.
  local reserved = ['y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null'],

  local allIn(s, set) = std.length([c for c in std.stringChars(s) if !std.setMember(c, set)]) == 0,
  local isDuration(s) =
    local n = std.length(s);
    std.length([
      u
      for u in durationUnits
      if n > std.length(u) && std.endsWith(s, u)
         && allIn(std.substr(s, 0, n - std.length(u)), std.set(std.stringChars(digits)))
    ]) > 0,
  // One line that starts with a letter, where nothing starts a comment (` #`) or a
  // mapping (`: `, a last `:`), and that is no boolean: read back as that string.
  local isPlain(s) =
    s != ''
    && (
      isDuration(s)
      || (
        std.member(letters, s[0])
        && std.length(std.findSubstr('\n', s)) == 0
        && std.length(std.findSubstr('\t', s)) == 0
        && std.length(std.findSubstr(': ', s)) == 0
        && std.length(std.findSubstr(' #', s)) == 0
        && !std.endsWith(s, ':')
        && !std.endsWith(s, ' ')
        && !std.member(reserved, std.asciiLower(s))
      )
    ),
  // Folding joins lines with one space: safe for one line without runs of spaces.
  local isFoldable(s) =
    s != '' && std.length(std.findSubstr('\n', s)) == 0 && std.length(std.findSubstr('\t', s)) == 0
    && std.length(std.findSubstr('  ', s)) == 0 && s[0] != ' ' && s[std.length(s) - 1] != ' ',
  // Literal blocks: the first line decides the indentation, so it may not start with one.
  local isLiteral(s) = std.length(std.findSubstr('\n', s)) > 0 && s[0] != ' ' && s[0] != '\n'
                       && std.length(std.findSubstr('\t', s)) == 0,

  // Lines of at most w characters where the words allow; never breaks right inside a
  // template action's braces (`{{ x`, `x }}`), so the templates stay readable.
  local wrap(s, w) =
    local words = std.foldl(
      function(ws, word)
        if std.length(ws) > 0 && (std.endsWith(ws[std.length(ws) - 1], '{{') || std.startsWith(word, '}}'))
        then ws[:std.length(ws) - 1] + [ws[std.length(ws) - 1] + ' ' + word]
        else ws + [word],
      std.split(s, ' '),
      []
    );
    local acc = std.foldl(
      function(a, word)
        if a.cur == '' then a { cur: word }
        else if std.length(a.cur) + 1 + std.length(word) <= w then a { cur: a.cur + ' ' + word }
        else { lines: a.lines + [a.cur], cur: word },
      words,
      { lines: [], cur: '' }
    );
    acc.lines + [acc.cur],

  // The text after `key: ` or `- `, and the block lines that follow it (at indent n).
  local scalar(v, n) =
    if std.isString(v) then
      // Long template texts (annotations) are folded; long expressions stay one line.
      local text = std.length(std.findSubstr('{{', v)) > 0;
      local long = std.length(v) + n > width;
      if isPlain(v) && !(text && long && isFoldable(v)) then { head: v, lines: [] }
      else if isLiteral(v) then
        local body = std.rstripChars(v, '\n');
        local trailing = std.length(v) - std.length(body);
        {
          head: if trailing == 0 then '|-' else if trailing == 1 then '|' else '|+',
          lines: [if l == '' then '' else ind(n) + l for l in std.split(body, '\n')]
                 + (if trailing > 1 then std.makeArray(trailing - 1, function(_) '') else []),
        }
      else if isFoldable(v) && std.length(std.escapeStringJson(v)) + n > width then
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
