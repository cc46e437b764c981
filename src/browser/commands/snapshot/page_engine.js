// The in-page snapshot engine (see page_engine.rs for the contract and the fallback rules).
// Called as `(this function)(wantCursor, interactiveOnly)` in the snapshot's realm. Returns an
// array:
//   [0] the tree as one string: `B<why the engine declined>`, or the nodes in pre-order (below)
//   [1] the elements the nodes point at (an element node's `el` indexes it)
//   [2] the cursor scan's JSON text (or null when not asked for)
//   [3] the cursor scan's elements
//   [4] inline elements whose event listeners would change the tree (see `breaksWords`)
// The node stream, one string rather than JSON of nested arrays (no array per node for the
// page's GC, no JSON to build or parse, fewer bytes on the wire, where JSON's quotes are
// escaped again); a string is `<length in UTF-16 units>:<text>`, a number ends at `,`:
//   T<string>          a text run (Chromium's StaticText), whose DOM node is the next entry
//                      of [1]
//   W<string>          a whitespace run with no node of its own
//   E<role>,<fields>;  an element node, then its children, then `)`. Role in Chromium's
//                      vocabulary (what Accessibility.getFullAXTree would report) so that the
//                      Rust fold reads both engines' trees alike. Fields, each left out where
//                      it holds its default, in this order: `@<el>,` (the node's element in
//                      [1]; none), `f<flags>,` (0), `l<level>,` (0), `n<name>` (empty),
//                      `v<value>` (none), `p<placeholder>` (none).
// flags: 1 checked, 2 mixed, 4 disabled, 8 expanded, 16 selected, 32 has url.
// With `interactiveOnly` (`snapshot -i`, which prints only the interactive roles and their
// names) the nodes that line cannot print are left lighter: no names computed from content
// for cells, headings, terms and captions, no text runs inside a data table's rows outside
// interactive elements, no element behind a node of a role -i does not print. The tree's
// structure, and so every printed line and its depth, is the same.
function (wantCursor, interactiveOnly) {
  'use strict';
  class Decline extends Error {}
  const decline = (why) => { throw new Decline(why); };
  const CHECKED = 1, MIXED = 2, DISABLED = 4, EXPANDED = 8, SELECTED = 16, URL = 32;
  const HTML_NS = 'http://www.w3.org/1999/xhtml';

  // Elements with no role of their own (HTML-AAM "generic" or no mapping): Chromium keeps
  // them out of its tree when they are laid out inline, and includes them (as generic or
  // ignored nodes, which the fold turns into a word break) when they are block-level.
  const PLAIN = new Set(['span', 'b', 'i', 'small', 'u', 'kbd', 'cite', 'var', 'samp', 'bdi',
    'bdo', 'font', 'big', 'tt', 'nobr', 'div', 'pre', 'center', 'slot', 'data']);
  // Elements with a role, as Chromium names it (HTML-AAM).
  const ROLES = {
    p: 'paragraph', em: 'emphasis', strong: 'strong', code: 'code', article: 'article',
    nav: 'navigation', main: 'main', ul: 'list', ol: 'list', menu: 'list', li: 'listitem',
    blockquote: 'blockquote', hr: 'separator', mark: 'mark', time: 'time', sub: 'subscript',
    sup: 'superscript', del: 'deletion', s: 'deletion', ins: 'insertion', dl: 'DescriptionList',
    dd: 'definition', figure: 'figure', figcaption: 'Figcaption', abbr: 'Abbr',
  };
  // Roles whose name Chromium computes from the content (accname 1.2 "name from content").
  const HEADINGS = { h1: 1, h2: 2, h3: 3, h4: 4, h5: 5, h6: 6 };
  // Where aria-label is a name Chromium reports and we print; elsewhere it declines.
  const LABELLABLE = new Set(['nav', 'main', 'aside', 'article', 'section', 'form', 'header',
    'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'button', 'input', 'textarea', 'select',
    'table', 'img']);
  const SKIPPED = new Set(['script', 'style', 'template', 'head', 'meta', 'link', 'title',
    'base', 'noscript', 'wbr']);
  const SECTIONING = 'article, aside, main, nav, section';
  // Elements that may carry a shadow root (DOM `attachShadow`); a closed one is invisible here.
  const SHADOW_HOSTS = new Set(['article', 'aside', 'blockquote', 'body', 'div', 'footer', 'h1',
    'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'main', 'nav', 'p', 'section', 'span']);
  const TEXT_INPUTS = { text: 'textbox', email: 'textbox', tel: 'textbox', url: 'textbox',
    password: 'textbox', search: 'searchbox', number: 'spinbutton' };
  const BLOCKISH = new Set(['block', 'flex', 'grid', 'list-item', 'flow-root', 'table',
    'table-row-group', 'table-header-group', 'table-footer-group', 'table-row', 'table-cell',
    'table-caption']);

  // Inline elements where Chromium's word break would change the text if it included them
  // in its tree, which it does when they have event listeners (a page script cannot see
  // those; Rust asks DOMDebugger.getEventListeners and falls back when there are any).
  const listened = [];
  const lastChar = (n) => {
    if (!n) return ' ';
    const t = n.nodeType === 3 ? n.data : n.nodeType === 1 ? n.textContent : '';
    return t === '' ? lastChar(n.previousSibling) : t[t.length - 1];
  };
  const firstChar = (n) => {
    if (!n) return ' ';
    const t = n.nodeType === 3 ? n.data : n.nodeType === 1 ? n.textContent : '';
    return t === '' ? firstChar(n.nextSibling) : t[0];
  };
  const word = (c) => !/\s/.test(c);
  const breaksWords = (el) => {
    const t = el.textContent;
    if (t === '') return false;
    // With no sibling on a side, the parent's neighbour decides: assume a word there.
    const before = el.previousSibling ? lastChar(el.previousSibling) : 'x';
    const after = el.nextSibling ? firstChar(el.nextSibling) : 'x';
    return (word(before) && word(t[0])) || (word(t[t.length - 1]) && word(after));
  };

  // Roles `snapshot -i` prints (snapshot.rs INTERACTIVE_ROLES, gstack's list): with
  // `interactiveOnly`, only these nodes need their element (for refs) and their name.
  const INTERACTIVE = new Set(['button', 'link', 'textbox', 'checkbox', 'radio', 'combobox',
    'listbox', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'searchbox', 'slider',
    'spinbutton', 'switch', 'tab', 'treeitem']);
  // Names of non-interactive nodes are computed only when the output can print them.
  const names = !interactiveOnly;
  // The stream is written as UTF-16 code units into a growing buffer and decoded once at the
  // end: `out += piece` kept one cons string per piece alive until then (hundreds of
  // thousands on a big table, all copied by every scavenge).
  let buf = new Uint16Array(1 << 16);
  let pos = 0;
  const room = (n) => {
    if (pos + n <= buf.length) return;
    let size = buf.length * 2;
    while (size < pos + n) size *= 2;
    const grown = new Uint16Array(size);
    grown.set(buf.subarray(0, pos));
    buf = grown;
  };
  const put = (s) => {
    const n = s.length;
    room(n);
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i);
  };
  const putChar = (c) => { room(1); buf[pos++] = c; };
  // A non-negative integer in decimal.
  const putNumber = (n) => {
    if (n >= 10) putNumber(Math.floor(n / 10));
    putChar(48 + (n % 10));
  };
  const putString = (s) => { putNumber(s.length); putChar(58); put(s); };
  const elements = [];
  const styles = new Map();
  const style = (el) => {
    let s = styles.get(el);
    if (!s) { s = getComputedStyle(el); styles.set(el, s); }
    return s;
  };

  // Generated content (::before/::after, ::marker text) becomes text in Chromium's tree; we
  // do not compute it, so any style sheet that could generate some declines.
  const GENERATED = /::?(before|after|marker)|content\s*:/i;
  const checkSheets = (sheets) => {
    for (const sheet of sheets) {
      let rules;
      try { rules = sheet.cssRules; } catch (e) { decline('a cross-origin style sheet'); }
      checkRules(rules);
    }
  };
  // Author CSS that sets a property checkStyle reads: until some is seen, every element has
  // the initial (or HTML's default) value and checkStyle need not read it (a tenth of the
  // walk on a big table).
  const STYLED = /visibility|text-transform|text-security|(^|[^-\w])content\s*:/i;
  let styled = false;
  // Author CSS that could set `display`, or blockify an element (`float`, `position`), or
  // reset all three (`all`): until some is seen, an element's display is the UA sheet's for
  // its tag, attributes and parent's display (see `uaDisplay`).
  const DISPLAYED = /(^|[^-\w])(display|float|position|all)\s*:/i;
  let displayed = false;
  const checkInlineStyles = (root) => {
    if (styled) return;
    for (const el of root.querySelectorAll('[style]')) {
      const css = el.getAttribute('style');
      if (DISPLAYED.test(css)) displayed = true;
      if (STYLED.test(css)) { styled = true; return; }
    }
  };
  const checkRules = (rules) => {
    for (const rule of rules) {
      if (rule.styleSheet) checkSheets([rule.styleSheet]);
      if (rule.cssRules && rule.cssRules.length) checkRules(rule.cssRules);
      if (rule.style && STYLED.test(rule.style.cssText)) styled = true;
      if (rule.style && DISPLAYED.test(rule.style.cssText)) displayed = true;
      if (rule.selectorText !== undefined && GENERATED.test(rule.selectorText)) {
        decline('a style sheet with generated content');
      }
      if (rule.style && rule.style.content && rule.style.content !== 'normal'
          && rule.style.content !== 'none') {
        decline('a style sheet with generated content');
      }
    }
  };

  // `attributed`: `el.hasAttributes()`, when the caller has read it.
  const checkAttributes = (el, tag, attributed = el.hasAttributes()) => {
    // Most cells and rows have no attributes: no name list to allocate.
    if (!attributed) return;
    for (const n of el.getAttributeNames()) {
      if (n === 'role') decline('a role attribute');
      if (n.startsWith('aria-')) {
        if (n === 'aria-describedby' || n === 'aria-description') continue;
        if (n === 'aria-label' && LABELLABLE.has(tag)) continue;
        decline('attribute ' + n + ' on <' + tag + '>');
      }
      if (n === 'hidden' && el.getAttribute('hidden') === 'until-found') decline('hidden=until-found');
      if (n === 'tabindex' || n === 'contenteditable' || n === 'title' || n === 'inert'
          || n === 'popover' || n === 'is' || n === 'accesskey') {
        decline('attribute ' + n);
      }
    }
  };

  const checkStyle = (s, password) => {
    if (!styled) return;
    if (s.visibility !== 'visible') decline('visibility ' + s.visibility);
    if (s.textTransform !== 'none') decline('text-transform');
    if (s.contentVisibility && s.contentVisibility !== 'visible') decline('content-visibility');
    if (s.content !== 'normal' && s.content !== 'none' && s.content !== '') decline('content');
    if (s.webkitTextSecurity && s.webkitTextSecurity !== 'none' && !password) {
      decline('text-security');
    }
  };

  // The display of a table part, or of an input or button in a cell, without a style read
  // where the document proves what it is: no author rule, inline style or animation sets
  // `display`, `float` or `position` (or `all`), so none can hide an element or blockify it;
  // no check needs the style for anything else (`styled` unset); nothing is in fullscreen
  // (the UA's `:fullscreen` rule sets `position`); the element has no attribute a UA rule or
  // presentational hint could match for display (`hidden`, `align`; a table part none at
  // all); and its parent, whose own children are being walked, is a table, table section,
  // row or cell of known display (`ctx.box`), which blockifies nothing. The UA sheet then
  // decides from the tag (an input's type) and the parent's display alone: the first element
  // of each kind is read, the rest reuse its display. On a 5,000-row table that leaves a
  // handful of 40,000 style reads (and as many style objects for the GC).
  // `tests/snapshot_engines.rs` hides and blockifies cells every way the proof must see.
  const TABLE_PARTS = new Set(['thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption']);
  const uaDisplays = new Map();
  let uaDecides = false;
  const uaDisplay = (el, tag, ctx, parent, attributed) => {
    if (!uaDecides || displayed || styled || parent === undefined || parent !== ctx.box) {
      return null;
    }
    if (TABLE_PARTS.has(tag)) {
      if (attributed) return null;
    } else if (tag === 'input' || tag === 'button') {
      if (el.hasAttribute('hidden') || el.hasAttribute('align')) return null;
    } else {
      return null;
    }
    // Keyed by the parent's display, then the tag, then an input's type: nested maps, as a
    // key string built per element cost more than the lookups.
    let kinds = uaDisplays.get(ctx.boxDisplay);
    if (kinds === undefined) uaDisplays.set(ctx.boxDisplay, kinds = new Map());
    let key = tag;
    if (tag === 'input') {
      let types = kinds.get(tag);
      if (types === undefined) kinds.set(tag, types = new Map());
      kinds = types;
      key = el.type;
    }
    let d = kinds.get(key);
    if (d === undefined) {
      d = style(el).display;
      kinds.set(key, d);
    }
    return d;
  };
  // Whether no running animation (CSS or Web Animations) animates a property `uaDisplay`
  // relies on; any doubt says no.
  const animationsLeaveDisplay = () => {
    for (const a of document.getAnimations()) {
      const effect = a.effect;
      if (!effect || typeof effect.getKeyframes !== 'function') return false;
      for (const k of effect.getKeyframes()) {
        if ('display' in k || 'cssFloat' in k || 'float' in k || 'position' in k || 'all' in k) {
          return false;
        }
      }
    }
    return true;
  };

  const ariaLabel = (el) => {
    const v = el.getAttribute('aria-label');
    return v !== null && v.trim() !== '' ? v : null;
  };

  // The children the flat tree gives `node` (shadow roots and slots resolved), as layout and
  // Chromium's accessibility tree see them.
  const sheetsChecked = new Set();
  const flatChildren = (node) => {
    if (node.nodeType === 1) {
      const tag = node.localName;
      // Only these elements can host a shadow root (DOM `attachShadow`, declarative shadow
      // roots alike): reading `shadowRoot` on every cell and control was a tenth of the walk.
      if ((SHADOW_HOSTS.has(tag) || tag.includes('-')) && node.shadowRoot) {
        if (!sheetsChecked.has(node.shadowRoot)) {
          sheetsChecked.add(node.shadowRoot);
          checkSheets(node.shadowRoot.styleSheets);
          checkSheets(node.shadowRoot.adoptedStyleSheets || []);
          checkInlineStyles(node.shadowRoot);
          // `:host` rules style the host, whose style was checked before its sheets were seen.
          checkStyle(style(node), false);
        }
        flat = true;
        return node.shadowRoot.childNodes;
      }
      if (tag === 'slot' && node.getRootNode() instanceof ShadowRoot) {
        const assigned = node.assignedNodes();
        if (assigned.length) { flat = true; return assigned; }
      }
    }
    // Null: the node's own children (walked by sibling links, faster than a NodeList).
    return null;
  };

  // A shadow host whose shadow root is closed renders content we cannot see and hides light
  // children we would otherwise print: decline where the layout betrays one.
  const checkClosedShadow = (el, tag) => {
    // The tag first: reading `shadowRoot` costs more than the set lookup, and only these
    // elements can host a shadow root.
    if (!(SHADOW_HOSTS.has(tag) || tag.includes('-')) || el.shadowRoot) return;
    let content = false;
    for (const child of el.childNodes) {
      if (child.nodeType === 3) {
        if (!/^\s*$/.test(child.data)) {
          content = true;
          const range = document.createRange();
          range.selectNodeContents(child);
          if (range.getClientRects().length === 0) decline('text that is not rendered');
        }
      } else if (child.nodeType === 1) {
        content = true;
        const d = style(child).display;
        if (d !== 'none' && d !== 'contents' && child.getClientRects().length === 0
            && child.localName !== 'br' && child.localName !== 'wbr') {
          decline('an element that is not rendered');
        }
      }
    }
    if (!content && el.offsetWidth > 0 && el.offsetHeight > 0) {
      decline('an empty element with a box (a closed shadow root?)');
    }
  };

  // accname 1.2 text of `node`'s content, as Chromium computes names from content: block
  // children on their own words (U+0001 marks a boundary Chromium may or may not break at).
  const contentText = (node, skip) => {
    let out = '';
    const add = (child) => {
      if (child === skip) return;
      if (child.nodeType === 3) out += child.data;
      else if (child.nodeType === 1) out += embeddedText(child, skip);
    };
    const children = flatChildren(node);
    if (children === null) {
      for (let c = node.firstChild; c !== null; c = c.nextSibling) add(c);
    } else {
      for (const child of children) add(child);
    }
    return out;
  };
  const embeddedText = (el, skip) => {
    if (el.namespaceURI !== HTML_NS) decline('a non-HTML element in a name');
    const tag = el.localName;
    if (SKIPPED.has(tag)) { checkHidden(el, tag); return ''; }
    const s = style(el);
    if (s.display === 'none') return '';
    checkStyle(s, tag === 'input' && el.type === 'password');
    if (tag === 'br') return '\n';
    if (tag === 'input') {
      const t = el.type;
      if (Object.hasOwn(TEXT_INPUTS, t)) {
        if (t === 'password' || t === 'number') decline('a ' + t + ' field in a name');
        return ' ' + fieldText(el) + ' ';
      }
      if (t === 'submit' || t === 'reset' || t === 'button') {
        return ' ' + (ariaLabel(el) ?? inputButtonText(el)) + ' ';
      }
      if (t === 'checkbox' || t === 'radio') {
        const label = ariaLabel(el);
        if (label === null) decline('an unlabelled ' + t + ' in a name');
        return ' ' + label + ' ';
      }
      decline('input type ' + t + ' in a name');
    }
    if (tag === 'textarea') return ' ' + fieldText(el) + ' ';
    if (tag === 'select') {
      if (el.multiple || el.size > 1) decline('a list box in a name');
      const chosen = el.selectedOptions[0];
      return ' ' + (chosen ? chosen.text : '') + ' ';
    }
    if (tag === 'img') return ' ' + (ariaLabel(el) ?? el.getAttribute('alt') ?? '') + ' ';
    const label = ariaLabel(el);
    const inner = label !== null ? label : contentText(el, skip);
    const d = s.display;
    if (d === 'inline') return inner;
    // Chromium breaks words around an element with no box (slots, display:contents).
    if (BLOCKISH.has(d) || (d === 'contents' && inner !== '')) return ' ' + inner + ' ';
    if (d === 'contents') return inner;
    return '\u0001' + inner + '\u0001';
  };
  // A text field in a name from content: its value, or when that is empty, its own name
  // (Chromium's reading of accname 1.2 step 2C/2E); a labelled one declines.
  const fieldText = (el) => {
    const value = el.value;
    if (value !== '') {
      if (value.trim() === '') decline('a blank field value in a name');
      return value;
    }
    if (ariaLabel(el) !== null) return ariaLabel(el);
    if (labelsOf(el).length) decline('an empty labelled field in a name');
    const placeholder = el.getAttribute('placeholder');
    return placeholder !== null && placeholder.trim() !== '' ? placeholder : '';
  };
  const collapse = (t) => t.replace(/\s+/g, ' ').trim();
  // Settles U+0001 boundaries: where breaking or not gives different words, decline.
  const settle = (text) => {
    if (!text.includes('\u0001')) return text;
    const broken = collapse(text.replace(/\u0001/g, ' '));
    if (broken !== collapse(text.replace(/\u0001/g, ''))) decline('an inline-block in a name');
    return broken;
  };
  const inputButtonText = (el) => {
    if (el.hasAttribute('value')) return el.value;
    return el.type === 'submit' ? 'Submit' : el.type === 'reset' ? 'Reset' : '';
  };

  // `el.labels`, from one pass over each tree's labels: Chromium computes `labels` by walking
  // the whole document for each control the first time, which is quadratic on a big form.
  const labelMaps = new Map();
  const NO_LABELS = Object.freeze([]);
  const labelsOf = (el) => {
    const root = el.getRootNode();
    let map = labelMaps.get(root);
    if (!map) {
      map = new Map();
      for (const label of root.querySelectorAll('label')) {
        const control = label.control;
        if (!control) continue;
        const list = map.get(control);
        if (list) list.push(label); else map.set(control, [label]);
      }
      labelMaps.set(root, map);
    }
    return map.get(el) || NO_LABELS;
  };

  // The name of a labelable control from its <label>s (HTML-AAM), or null when none.
  const labelText = (el) => {
    const labels = labelsOf(el);
    if (labels.length === 0) return null;
    if (labels.length > 1) decline('a control with several labels');
    const label = labels[0];
    if (!label.checkVisibility()) decline('a label that is not rendered');
    for (const other of label.querySelectorAll('input, select, textarea, button')) {
      if (other !== el) decline('a label holding another control');
    }
    return settle(contentText(label, el));
  };

  // The node stream (see the top of this file).
  const text = (data, node) => {
    putChar(84); putString(data);
    elements.push(node);
  };
  const open = (role, name, el, flags, value, level, placeholder) => {
    putChar(69); put(role); putChar(44);
    if (el !== null && (names || INTERACTIVE.has(role))) {
      putChar(64); putNumber(elements.length); putChar(44);
      elements.push(el);
    }
    if (flags !== 0) { putChar(102); putNumber(flags); putChar(44); }
    if (level !== 0) { putChar(108); putNumber(level); putChar(44); }
    if (name !== '') { putChar(110); putString(name); }
    if (value !== null) { putChar(118); putString(value); }
    if (placeholder !== null) { putChar(112); putString(placeholder); }
    putChar(59);
  };
  const close = () => putChar(41);
  // A node and, when `parent` is given, the flat-tree children of that element under `ctx`.
  const element = (role, name, el, flags, value, level, placeholder, parent, ctx) => {
    open(role, name, el, flags, value, level, placeholder);
    if (parent) walkChildren(parent, ctx);
    close();
  };

  const walkChildren = (node, ctx) => {
    const children = flatChildren(node);
    if (children === null) {
      // Muted, `visit` leaves every node but elements out: those are all it need see (no
      // wrapper made for each cell's text in a big table's rows).
      if (ctx.mute) {
        for (let c = node.firstElementChild; c !== null; c = c.nextElementSibling) {
          visit(c, ctx, node);
        }
        return;
      }
      for (let c = node.firstChild; c !== null; c = c.nextSibling) visit(c, ctx, node);
    } else {
      for (const child of children) visit(child, ctx, undefined);
    }
  };

  // Whether an element with no box has text in the flat tree: false when it has no children,
  // declines when whether its children hold text is not plain.
  const boxlessHoldsText = (el) => {
    const children = flatChildren(el) ?? el.childNodes;
    for (const child of children) {
      if (child.nodeType === 3 ? !/^\s*$/.test(child.data)
        : child.nodeType === 1 && !/^\s*$/.test(child.textContent)) return true;
    }
    if (children.length) decline('an element with no box and no plain text');
    return false;
  };

  // `parent`: the node's parent element when the caller walks that element's own children
  // (known without a DOM read: in an isolated world every node read costs a wrapper lookup),
  // undefined where it walks flat-tree children (the parent is then read).
  // The cursor scan's candidates, gathered by the walk for `CURSOR_SCAN`'s `walked`: the
  // light-DOM elements under the body in document order, less those the scan provably skips
  // where the document is author-free: its own `skip` tags (never listed), and a table part
  // whose parent is one (`ctx.table`: a table, table section or row), both of the scan's
  // PASSIVE tags, without onclick or tabindex (it inherits its cursor from that parent). The
  // list stands for the scan's selector pass only when it holds every element under the body:
  // the walk ended, met no shadow root or slot (`flat`: the flat tree would add other
  // elements and reorder), and visited as many elements as the body has.
  // `tests/snapshot_engines.rs` (`cursor_scan_lists_what_the_walk_did_not_see`) hides
  // listable elements from the walk every way the count must see.
  const SCAN_SKIPS = new Set(['a', 'button', 'input', 'select', 'textarea', 'summary',
    'details']);
  const candidates = [];
  let walked = 0;
  let flat = false;
  const candidate = (el, tag, ctx, attributed) => {
    walked++;
    if (SCAN_SKIPS.has(tag)) return;
    if (ctx.table && TABLE_PARTS.has(tag) && !(attributed
        && (el.hasAttribute('onclick') || el.hasAttribute('tabindex')))) {
      return;
    }
    candidates.push(el);
  };

  // A script, style, title… is left out as the UA sheet hides it (`display: none`); author CSS
  // or an animation can show one, and Chromium's tree then holds its text: decline. `wbr`
  // has no box to show; `noscript`'s UA rule is `!important`.
  const checkHidden = (el, tag) => {
    if (tag !== 'wbr' && (displayed || !uaDecides) && style(el).display !== 'none') {
      decline('<' + tag + '> laid out (author CSS shows it)');
    }
  };

  // `:disabled` of a button, input, select or textarea the walk reached: its `disabled`
  // attribute alone. The other way to it, a disabled fieldset ancestor (HTML's "actually
  // disabled"), cannot be there: a fieldset declines, and the walk visits every ancestor of
  // an element (light or flat tree) before the element. One attribute read, not a selector
  // match per control (a tenth of the walk's time on a big table of controls).
  const disabledFlag = (el) => (el.hasAttribute('disabled') ? DISABLED : 0);

  const visit = (node, ctx, parent) => {
    if (node.nodeType === 3) {
      // Text -i cannot print, under a line it prints anyway: left out.
      if (ctx.mute) return;
      const data = node.data;
      if (/^\s*$/.test(data)) {
        if (data !== '') { putChar(87); putString(data); }
      } else {
        text(data, node);
      }
      return;
    }
    if (node.nodeType !== 1) return;
    const el = node;
    if (el.namespaceURI !== HTML_NS) decline('a non-HTML element (' + el.localName + ')');
    const tag = el.localName;
    // Read once: three checks below need it, and most cells and rows have none.
    const attributed = el.hasAttributes();
    candidate(el, tag, ctx, attributed);
    if (SKIPPED.has(tag)) { checkHidden(el, tag); return; }
    const known = uaDisplay(el, tag, ctx, parent, attributed);
    // Null where the UA's display was used: `uaDisplay` holds only while `styled` is unset,
    // when `checkStyle` reads nothing.
    const s = known === null ? style(el) : null;
    const d = known ?? s.display;
    if (d === 'none') return;
    // Chromium's tree gives any element laid out as a list item the listitem role (a <span>,
    // a <div> in a <ul>); the engine gives an element its tag's role.
    if (tag !== 'li' && d.includes('list-item')) decline('<' + tag + '> laid out as ' + d);
    if (s !== null) checkStyle(s, tag === 'input' && el.type === 'password');
    checkAttributes(el, tag, attributed);
    checkClosedShadow(el, tag);
    if (ctx.table) return tablePart(el, tag, d, ctx);
    // An in-flow block inside a paragraph splits it into anonymous blocks; Chromium then folds
    // the paragraph differently. An empty paragraph is left out of Chromium's tree.
    // The parent first: it is rarely a paragraph, and float and position are style reads.
    if (parent === undefined) parent = el.parentElement;
    if (parent !== null && parent.localName === 'p'
        && !d.startsWith('inline') && d !== 'contents' && (s ?? style(el)).cssFloat === 'none'
        && (s ?? style(el)).position !== 'absolute' && (s ?? style(el)).position !== 'fixed') {
      decline('<' + tag + '> laid out as ' + d + ' inside a paragraph');
    }
    if (tag === 'p' && el.firstElementChild === null && el.shadowRoot === null
        && /^\s*$/.test(el.textContent)) {
      decline('an empty paragraph');
    }

    if (PLAIN.has(tag) || tag.includes('-') || (tag === 'a' && !el.hasAttribute('href'))) {
      // An element with no box (slots, display:contents) breaks words as a block does.
      // An empty one breaks nothing, nor does an <a> without href (checked against Chromium).
      if (d === 'contents' && tag !== 'a' && boxlessHoldsText(el)) {
        if (ctx.label) decline('an element with no box inside a label');
        return element('generic', '', null, 0, null, 0, null, el, ctx);
      }
      if (d === 'inline' || d === 'contents') {
        if (ctx.label && tag !== 'slot') decline('an inline element inside a label');
        if (el.hasAttribute('aria-label')) decline('aria-label on an element without a role');
        if (el.hasAttribute('onclick')) decline('an inline element with onclick');
        if (breaksWords(el)) listened.push(el);
        return walkChildren(el, ctx);
      }
      if (!BLOCKISH.has(d) || d.startsWith('table')) decline('<' + tag + '> laid out as ' + d);
      return element('generic', '', null, 0, null, 0, null, el, ctx);
    }
    if (d.startsWith('table') && tag !== 'table') decline('<' + tag + '> laid out as ' + d);
    if (Object.hasOwn(ROLES, tag)) {
      const name = LABELLABLE.has(tag) ? ariaLabel(el) ?? '' : '';
      return element(ROLES[tag], name, el, 0, null, 0, null, el, ctx);
    }
    if (Object.hasOwn(HEADINGS, tag)) {
      const name = names ? ariaLabel(el) ?? settle(contentText(el)) : '';
      return element('heading', name, el, 0, null, HEADINGS[tag], null, el, ctx);
    }
    switch (tag) {
      case 'html': case 'body':
        return element('generic', '', null, 0, null, 0, null, el, ctx);
      case 'section': case 'form': {
        const name = ariaLabel(el);
        if (d !== 'block') decline('<' + tag + '> laid out as ' + d);
        const role = tag === 'form' ? 'form' : name === null ? 'generic' : 'region';
        return element(role, name ?? '', el, 0, null, 0, null, el, ctx);
      }
      case 'header': case 'footer': case 'aside': {
        if (el.parentElement && el.parentElement.closest(SECTIONING)) {
          decline('<' + tag + '> inside sectioning content');
        }
        const role = { header: 'banner', footer: 'contentinfo', aside: 'complementary' }[tag];
        return element(role, ariaLabel(el) ?? '', el, 0, null, 0, null, el, ctx);
      }
      case 'dt': case 'dfn':
        return element('term', names ? settle(contentText(el)) : '', el, 0, null, 0, null, el,
          ctx);
      case 'a': {
        const name = ariaLabel(el) ?? settle(contentText(el));
        if (collapse(name) === '') decline('a link with no name');
        return element('link', name, el, URL, null, 0, null, el, { ...ctx, mute: false });
      }
      case 'label':
        return element('LabelText', '', null, 0, null, 0, null, el, { ...ctx, label: true });
      case 'br':
        return element('LineBreak', '\n', null, 0, null, 0, null);
      case 'img': {
        const alt = el.getAttribute('alt');
        if (el.hasAttribute('aria-label')) decline('an image with aria-label');
        const name = alt ?? '';
        if (name === '' && alt === '') return;
        return element('image', name, el, 0, null, 0, null);
      }
      case 'button': {
        if (labelsOf(el).length) decline('a button with a label');
        const name = ariaLabel(el) ?? settle(contentText(el));
        return element('button', name, el, disabledFlag(el), null, 0, null, el,
          { ...ctx, mute: false });
      }
      case 'textarea': return textField(el, 'textbox', el.value, disabledFlag(el));
      case 'input': return input(el, disabledFlag(el));
      case 'select': return select(el, disabledFlag(el));
      case 'table': return table(el, s ?? style(el));
    }
    decline('element <' + tag + '>');
  };

  const controlName = (el) => ariaLabel(el) ?? labelText(el);

  const textField = (el, role, value, flags) => {
    if (el.hasAttribute('list')) decline('a field with a datalist');
    const placeholder = el.getAttribute('placeholder');
    let name = controlName(el);
    if (name === null || collapse(name) === '') {
      name = placeholder !== null && placeholder.trim() !== '' ? placeholder : '';
    }
    element(role, name, el, flags, value, 0, placeholder);
  };

  const input = (el, flags) => {
    const t = el.type;
    if (Object.hasOwn(TEXT_INPUTS, t)) {
      let value = el.value;
      if (t === 'password') {
        if (/[\ud800-\udfff]/.test(value)) decline('a password with astral characters');
        value = '\u2022'.repeat(value.length);
      }
      if (t === 'number' && !/^-?(0|[1-9][0-9]{0,14})$/.test(value)) {
        decline('a number field whose value Chromium reformats');
      }
      return textField(el, TEXT_INPUTS[t], value, flags);
    }
    if (t === 'checkbox' || t === 'radio') {
      if (el.indeterminate) {
        if (t === 'radio') decline('an indeterminate radio');
        flags |= MIXED;
      } else if (el.checked) flags |= CHECKED;
      return element(t, controlName(el) ?? '', el, flags, null, 0, null);
    }
    if (t === 'submit' || t === 'reset' || t === 'button') {
      if (labelsOf(el).length) decline('a button with a label');
      const value = inputButtonText(el);
      open('button', ariaLabel(el) ?? value, el, flags, null, 0, null);
      if (value !== '') text(value, el);
      return close();
    }
    decline('input type ' + t);
  };

  const select = (el, flags) => {
    if (el.multiple || el.size > 1) decline('a list box');
    if (el.querySelector('optgroup')) decline('an optgroup');
    const options = [];
    for (const child of el.children) {
      if (child.localName !== 'option') decline('a select child other than option');
      if (child.disabled || child.hasAttribute('label')) decline('a disabled or labelled option');
      checkAttributes(child, 'option');
      options.push(child);
    }
    open('combobox', controlName(el) ?? '', el, flags, null, 0, null);
    open('MenuListPopup', '', null, 0, null, 0, null);
    for (const option of options) {
      // A child of a select, which is not PASSIVE: always a candidate.
      walked++;
      candidates.push(option);
      const s = style(option);
      if (s.display === 'none') decline('a hidden option');
      checkStyle(s);
      element('option', collapse(option.text), option, option.selected ? SELECTED : 0,
        null, 0, null);
    }
    close();
    close();
  };

  // Chromium tells data tables from layout tables by heuristics (AXObject::IsDataTable).
  // We decide only where the answer is certain: header markup, or 20 rows and more, means
  // data; no header markup, few rows and no borders or backgrounds means layout; anything
  // else declines.
  const table = (el, s) => {
    if (s.display !== 'table') decline('a table not laid out as one');
    for (const a of ['border', 'summary', 'rules', 'frame', 'cellspacing', 'bgcolor']) {
      if (el.hasAttribute(a)) decline('table attribute ' + a);
    }
    let caption = null, thead = null;
    for (const child of el.children) {
      const t = child.localName;
      if (t === 'caption') { if (caption) decline('two captions'); caption = child; }
      else if (t === 'thead') { if (thead) decline('two heads'); thead = child; }
      else if (t !== 'tbody' && t !== 'tr') decline('table child <' + t + '>');
    }
    // The rows by hand: HTMLTableElement.rows is slow to walk on a big table the first time.
    const rows = [];
    for (const child of el.children) {
      if (child.localName === 'tr') rows.push(child);
      else if (child.localName === 'tbody' || child.localName === 'thead') {
        for (let row = child.firstElementChild; row !== null; row = row.nextElementSibling) {
          if (row.localName !== 'tr') decline('a table section child <' + row.localName + '>');
          rows.push(row);
        }
      }
    }
    let th = false, width = -1;
    for (const row of rows) {
      // Sibling links, not `row.children`: an HTMLCollection's iterator is slow per row.
      // One pass over the cells (each node read is a wrapper lookup in an isolated world).
      let count = 0;
      for (let cell = row.firstElementChild; cell !== null; cell = cell.nextElementSibling) {
        const t = cell.localName;
        if (t !== 'td' && t !== 'th') decline('a row child <' + t + '>');
        count++;
        if (t === 'th') th = true;
        if (!cell.hasAttributes()) continue;
        if (cell.colSpan !== 1 || cell.rowSpan !== 1) decline('spanning cells');
        for (const a of ['headers', 'abbr', 'axis', 'scope']) {
          if (cell.hasAttribute(a) && !(a === 'scope' && cell.localName === 'th')) {
            decline('cell attribute ' + a);
          }
        }
      }
      if (width === -1) width = count;
      if (count !== width || width < 2) decline('a ragged or one-column table');
    }
    const data = caption !== null || thead !== null || th || rows.length >= 20;
    if (!data) {
      const plain = (e) => {
        const cs = style(e);
        return cs.backgroundColor === 'rgba(0, 0, 0, 0)' && cs.backgroundImage === 'none'
          && ['Top', 'Right', 'Bottom', 'Left'].every((side) => cs['border' + side + 'Width'] === '0px'
            || cs['border' + side + 'Style'] === 'none');
      };
      if (!plain(el)) decline('a small table with borders or backgrounds');
      for (const row of rows) {
        if (!plain(row)) decline('a small table with borders or backgrounds');
        for (const cell of row.children) {
          if (!plain(cell)) decline('a small table with borders or backgrounds');
        }
      }
    }
    if (data && rows.length < 20 && rows.length < 2) decline('a one-row data table');
    const name = !names ? '' : ariaLabel(el) ?? (caption ? settle(contentText(caption)) : '');
    const ctx = { table: data ? 'data' : 'layout', thead: false, box: el, boxDisplay: 'table' };
    open(data ? 'table' : 'LayoutTable', name, data ? el : null, 0, null, 0, null);
    for (const child of el.children) visit(child, ctx, el);
    close();
  };

  // `d`: the element's display. Each child context names the element as the `box` whose
  // children it walks (see `uaDisplay`).
  const tablePart = (el, tag, d, ctx) => {
    const data = ctx.table === 'data';
    const inner = { label: ctx.label, mute: ctx.mute, box: el, boxDisplay: d };
    switch (tag) {
      case 'caption':
        if (d !== 'table-caption') decline('a caption not laid out as one');
        return element('caption', '', el, 0, null, 0, null, el, inner);
      case 'thead':
        if (d !== 'table-header-group') decline('a thead not laid out as one');
        if (!data) decline('a thead in a layout table');
        return element('rowgroup', '', el, 0, null, 0, null, el,
          { ...ctx, thead: true, box: el, boxDisplay: d });
      case 'tbody':
        if (d !== 'table-row-group') decline('a tbody not laid out as one');
        return element('generic', '', null, 0, null, 0, null, el,
          { ...ctx, box: el, boxDisplay: d });
      case 'tr':
        if (d !== 'table-row') decline('a row not laid out as one');
        if (ctx.row) decline('a row in a row');
        // A data row is a line of its own: -i need not see the text inside it (a layout
        // row is folded away, and text could be all its table prints).
        return element(data ? 'row' : 'LayoutTableRow', '', data ? el : null, 0, null, 0, null,
          el, { ...ctx, row: true, mute: data && interactiveOnly, box: el, boxDisplay: d });
      case 'td': case 'th': {
        if (d !== 'table-cell') decline('a cell not laid out as one');
        if (!ctx.row) decline('a cell outside a row');
        let role = data ? 'cell' : 'LayoutTableCell';
        if (tag === 'th') {
          const scope = el.getAttribute('scope');
          if (scope === 'row') role = 'rowheader';
          else if (scope === 'col' || (scope === null && ctx.thead)) role = 'columnheader';
          else decline('a header cell of unknown direction');
        }
        const name = data && names ? settle(contentText(el)) : '';
        return element(role, name, data ? el : null, 0, null, 0, null, el, inner);
      }
    }
    decline('<' + tag + '> directly in a table');
  };

  let tree;
  let complete = false;
  try {
    if (document.contentType !== 'text/html') decline('a ' + document.contentType + ' document');
    if (document.documentElement === null || document.body === null) decline('no body');
    if (document.body.localName !== 'body') decline('a frameset');
    checkSheets(document.styleSheets);
    checkSheets(document.adoptedStyleSheets || []);
    checkInlineStyles(document);
    uaDecides = document.fullscreenElement === null && animationsLeaveDisplay();
    open('RootWebArea', '', null, 0, null, 0, null);
    const html = document.documentElement;
    checkAttributes(html, 'html');
    checkStyle(style(html));
    open('generic', '', null, 0, null, 0, null);
    visit(document.body, {}, undefined);
    close();
    close();
    // The body itself was counted, and is not a candidate.
    complete = !flat && walked - 1 === document.body.getElementsByTagName('*').length;
    // Lone surrogates are not Unicode; Chromium's tree has U+FFFD in their place (one UTF-16
    // unit for one: the lengths in the stream stay right).
    // utf-16le decoding puts U+FFFD for each lone surrogate, as `toWellFormed` does.
    tree = new TextDecoder('utf-16le', { ignoreBOM: true }).decode(buf.subarray(0, pos));
  } catch (e) {
    if (!(e instanceof Decline)) throw e;
    tree = 'B' + e.message;
  }
  let cursor = [null];
  if (wantCursor) {
    try {
      cursor = __CURSOR_SCAN__.call(document.body, style, complete ? candidates : null);
    } catch (e) { cursor = [null]; }
  }
  return [tree, elements, cursor[0], cursor.slice(1), listened];
}
