// Translates one of isbot's patterns (a JavaScript regex source, used with the flag `i`
// and without `u`) into Rust `regex` syntax that accepts exactly the same strings.
//
// Why a translator and not the source as it is: the Rust `regex` crate has no lookaround
// (isbot uses `(?<! cu)bots?`, `java(?!;)`, …), and its `\w`, `\d`, `\b`, `\s`, `.` and
// case folding are Unicode-aware where JavaScript's (without `u`) are not. So:
//
// - Every pattern runs in `(?i-u:…)`: ASCII case folding and ASCII `\w`, `\d`, `\b`,
//   as in JavaScript without `u` (no non-ASCII character folds to an ASCII one there).
// - What must match non-ASCII characters (`.`, `\s`, negated classes) is written as an
//   explicit Unicode class with both cases of its ASCII letters spelled out.
// - A negative lookahead at the end of a branch, or a negative lookbehind at its start,
//   whose content is a finite set of literal words (characters, small classes, bounded
//   repetitions), becomes the regular language "not followed (preceded) by any of these
//   words": the end (start) of the text, or a character that no word continues with, or
//   one that some word continues with and then the same recursively. This consumes characters, which is harmless there
//   because nothing in the branch follows (precedes) it and the result is only used as
//   a yes/no match.
//
// One difference is left: JavaScript counts UTF-16 units, Rust characters, so a counted
// repetition (`^[^ ]{50,}$`) over characters outside the BMP counts them once, not twice.
//
// Anything else (lookaround elsewhere, or over content that is not a small finite set of
// words; back-references; non-ASCII pattern characters; …) throws: extend the translator
// rather than guess.

const JS_WHITESPACE =
  "\\t\\n\\x0B\\x0C\\r \\xA0\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";
const ASCII_WORD = "0-9A-Za-z_";
const META = new Set("\\.+*?()|[]{}^$#&-~".split(""));
const CLASS_META = new Set("\\[]^&-~".split(""));

/** Parses a JavaScript regex source (non-`u` syntax, the subset isbot uses). */
function parse(source) {
  let at = 0;
  const fail = (why) => {
    throw new Error(`${why} at offset ${at} of /${source}/`);
  };
  const peek = () => source[at];
  const eat = (text) => source.startsWith(text, at) && ((at += text.length), true);

  function alternation() {
    const branches = [sequence()];
    while (eat("|")) branches.push(sequence());
    return { type: "alt", branches };
  }

  function sequence() {
    const items = [];
    while (at < source.length && peek() !== "|" && peek() !== ")") {
      const item = atom();
      const repeat = quantifier();
      if (!repeat) {
        items.push(item);
      } else if (item.type === "look" || item.type === "assert") {
        fail("a quantified assertion");
      } else {
        items.push({ type: "repeat", body: item, ...repeat, lazy: eat("?") });
      }
    }
    return { type: "seq", items };
  }

  function quantifier() {
    if (eat("*")) return { min: 0, max: Infinity };
    if (eat("+")) return { min: 1, max: Infinity };
    if (eat("?")) return { min: 0, max: 1 };
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
    if (!braces) return null;
    at += braces[0].length;
    const min = Number(braces[1]);
    const max = braces[2] === undefined ? min : braces[3] === "" ? Infinity : Number(braces[3]);
    if (max < min) fail("a repetition whose maximum is below its minimum");
    return { min, max };
  }

  function group() {
    const body = alternation();
    if (!eat(")")) fail("an unclosed group");
    return body;
  }

  function atom() {
    if (eat("(?:")) return { type: "group", body: group() };
    for (const [open, ahead, negate] of [
      ["(?=", true, false],
      ["(?!", true, true],
      ["(?<=", false, false],
      ["(?<!", false, true],
    ]) {
      if (eat(open)) return { type: "look", ahead, negate, body: group() };
    }
    if (eat("(?")) fail("an unsupported group");
    if (eat("(")) return { type: "group", body: group() };
    if (eat("[")) return characterClass();
    if (eat(".")) return { type: "any" };
    if (eat("^")) return { type: "assert", kind: "^" };
    if (eat("$")) return { type: "assert", kind: "$" };
    if (eat("\\")) {
      if (eat("b")) return { type: "assert", kind: "b" };
      if (eat("B")) fail("\\B (it has no sound translation here)");
      return escape(false);
    }
    if ("*+?{".includes(peek()) && quantifier()) fail("a quantifier without an operand");
    return { type: "char", c: source[at++] };
  }

  // After a backslash: a class escape (\w, \d, \s and their negations) or one character.
  function escape(inClass) {
    const c = source[at++];
    if (c === undefined) fail("a trailing backslash");
    if ("wdsWDS".includes(c)) return { type: "esc", e: c };
    const controls = { n: "\n", t: "\t", r: "\r", f: "\f", v: "\v" };
    if (c in controls) return { type: "char", c: controls[c] };
    if (inClass && c === "b") return { type: "char", c: "\b" };
    const shape = c === "x" ? /^[0-9a-fA-F]{2}/ : c === "u" ? /^[0-9a-fA-F]{4}/ : null;
    if (shape) {
      const digits = shape.exec(source.slice(at));
      if (!digits) fail(`a malformed \\${c} escape`);
      at += digits[0].length;
      return { type: "char", c: String.fromCharCode(parseInt(digits[0], 16)) };
    }
    if (/[0-9A-Za-z]/.test(c)) fail(`the escape \\${c}`);
    return { type: "char", c };
  }

  function characterClass() {
    const negated = eat("^");
    const items = [];
    if (peek() === "]") fail("an empty class");
    while (!eat("]")) {
      if (at >= source.length) fail("an unclosed class");
      const first = classAtom();
      if (peek() === "-" && source[at + 1] !== "]" && source[at + 1] !== undefined) {
        at += 1;
        const last = classAtom();
        // Annex B: a range with a class escape at either end is the two atoms and "-".
        if (first.type === "esc" || last.type === "esc") {
          items.push(first, { type: "char", c: "-" }, last);
        } else if (first.c > last.c) {
          fail("a range out of order");
        } else {
          items.push({ type: "range", from: first.c, to: last.c });
        }
      } else {
        items.push(first);
      }
    }
    return { type: "class", negated, items };
  }

  function classAtom() {
    if (eat("\\")) return escape(true);
    return { type: "char", c: source[at++] };
  }

  const tree = alternation();
  if (at !== source.length) fail("an unmatched )");
  return tree;
}

const isLetter = (c) => /^[A-Za-z]$/.test(c);
const hex = (c) => `\\x{${c.codePointAt(0).toString(16).toUpperCase()}}`;

function plainChar(c, meta) {
  const code = c.codePointAt(0);
  if (code > 0x7e) throw new Error(`a non-ASCII pattern character ${hex(c)}`);
  if (code < 0x20) return hex(c);
  return meta.has(c) ? `\\${c}` : c;
}

// A class body for Unicode mode without case folding: both cases of every ASCII letter.
function unicodeClassItems(items) {
  return items
    .map((item) => {
      if (item.type === "esc") {
        if (item.e === "w") return ASCII_WORD;
        if (item.e === "d") return "0-9";
        if (item.e === "s") return JS_WHITESPACE;
        return `[^${unicodeClassItems([{ type: "esc", e: item.e.toLowerCase() }])}]`;
      }
      const from = item.type === "range" ? item.from : item.c;
      const to = item.type === "range" ? item.to : item.c;
      const chars = [];
      for (let code = from.codePointAt(0); code <= to.codePointAt(0); code += 1) {
        const c = String.fromCodePoint(code);
        chars.push(c);
        if (isLetter(c)) chars.push(c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());
      }
      return [...new Set(chars)].map((c) => plainChar(c, CLASS_META)).join("");
    })
    .join("");
}

const needsUnicode = (item) => item.type === "esc" && item.e !== "w" && item.e !== "d";

function emitClass(node) {
  if (node.negated || node.items.some(needsUnicode)) {
    return `(?u-i:[${node.negated ? "^" : ""}${unicodeClassItems(node.items)}])`;
  }
  const body = node.items.map((item) => {
    if (item.type === "esc") return `\\${item.e}`;
    if (item.type === "range") return `${plainChar(item.from, CLASS_META)}-${plainChar(item.to, CLASS_META)}`;
    return plainChar(item.c, CLASS_META);
  });
  return `[${body.join("")}]`;
}

function emit(node) {
  switch (node.type) {
    case "alt":
      return node.branches.map(emit).join("|");
    case "seq":
      return node.items.map(emit).join("");
    case "group":
      return `(?:${emit(node.body)})`;
    case "char":
      return plainChar(node.c, META);
    case "any":
      return "(?u-i:[^\\n\\r\\x{2028}\\x{2029}])";
    case "assert":
      return node.kind === "b" ? "\\b" : node.kind;
    case "esc":
      return "wd".includes(node.e) ? `\\${node.e}` : emitClass({ negated: false, items: [node] });
    case "class":
      return emitClass(node);
    case "repeat": {
      const { min, max } = node;
      const count =
        min === 0 && max === Infinity ? "*"
        : min === 1 && max === Infinity ? "+"
        : min === 0 && max === 1 ? "?"
        : max === Infinity ? `{${min},}`
        : min === max ? `{${min}}`
        : `{${min},${max}}`;
      return emit(node.body) + count + (node.lazy ? "?" : "");
    }
    case "look":
      throw new Error("a lookaround that is not at the edge of a branch");
    default:
      throw new Error(`an unknown node ${node.type}`);
  }
}

// The finite set of literal words a lookaround's content matches, each a list of
// characters, letters lower-cased (the flag `i` folds ASCII letters only).
function words(node) {
  switch (node.type) {
    case "alt":
      return node.branches.flatMap(words);
    case "group":
      return words(node.body);
    case "seq":
      return node.items.reduce(
        (prefixes, item) => prefixes.flatMap((p) => words(item).map((w) => [...p, ...w])),
        [[]],
      );
    case "char":
      plainChar(node.c, META); // rejects non-ASCII
      return [[node.c.toLowerCase()]];
    case "class": {
      // A small positive class of plain characters: one word per character.
      if (node.negated || node.items.some((item) => item.type === "esc")) break;
      const chars = new Set();
      for (const item of node.items) {
        const [from, to] = item.type === "range" ? [item.from, item.to] : [item.c, item.c];
        for (let code = from.codePointAt(0); code <= to.codePointAt(0); code += 1) {
          chars.add(String.fromCodePoint(code));
        }
      }
      if (chars.size > 32) break;
      return words({ type: "alt", branches: [...chars].map((c) => ({ type: "char", c })) });
    }
    case "repeat": {
      // A bounded repetition (`x?`, `x{1,3}`): one set of words per count.
      if (node.max > 4) break;
      const counts = [];
      for (let n = node.min; n <= node.max; n += 1) {
        counts.push({ type: "seq", items: Array(n).fill(node.body) });
      }
      return words({ type: "alt", branches: counts });
    }
  }
  throw new Error(`a lookaround over ${node.type}, not literal words`);
}

// "Not followed by any of `ws`" (or, with `behind`, "not preceded by", the words given
// reversed): null when it can never hold (a word is empty).
function notPrefix(ws, behind) {
  if (ws.some((w) => w.length === 0)) return null;
  const rests = new Map();
  for (const [first, ...rest] of ws) rests.set(first, [...(rests.get(first) ?? []), rest]);
  const firsts = [...rests.keys()].map((c) => ({ type: "char", c }));
  const options = [behind ? "^" : "$", emitClass({ negated: true, items: firsts })];
  for (const [first, rest] of rests) {
    const after = notPrefix(rest, behind);
    const c = plainChar(first, META);
    if (after !== null) options.push(behind ? after + c : c + after);
  }
  return `(?:${options.join("|")})`;
}

// One top-level branch with its edge lookarounds rewritten; null if it can never match.
function branch(seq) {
  const items = [...seq.items];
  let prefix = "";
  let suffix = "";
  if (items[0]?.type === "look" && !items[0].ahead) {
    const look = items.shift();
    prefix = look.negate
      ? notPrefix(words(look.body).map((w) => w.reverse()), true)
      : `(?:${emit(look.body)})`;
  }
  if (items.at(-1)?.type === "look" && items.at(-1).ahead) {
    const look = items.pop();
    suffix = look.negate ? notPrefix(words(look.body), false) : `(?:${emit(look.body)})`;
  }
  if (prefix === null || suffix === null) return null;
  return prefix + emit({ type: "seq", items }) + suffix;
}

/** The Rust `regex` translation of an isbot pattern source. */
export function translate(source) {
  const branches = parse(source).branches.map(branch).filter((b) => b !== null);
  if (branches.length === 0) throw new Error(`/${source}/ can never match`);
  return `(?i-u:${branches.join("|")})`;
}
