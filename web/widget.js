/*! frontdesk widget — the site's assistant, booking, forms, newsletter and share buttons.
 * One tag:  <script src="https://api.example.com/widget.js" defer></script>
 * Options as data attributes on that tag (data-api, data-parts, data-accent, data-greeting,
 * data-post-url, data-service-url, data-locale, data-time-zone, data-auto-init="false") or
 * window.Frontdesk.init({api, parts, accent, greeting, texts, links, locale, timeZone}).
 * Mount points: <div data-frontdesk="booking|consultation|plan|newsletter|shares"></div>
 * (shares take data-post="slug"). Events on window: frontdesk:open, frontdesk:close,
 * frontdesk:token, frontdesk:reply, frontdesk:lead, frontdesk:booking, frontdesk:subscribed,
 * frontdesk:share. Plain ES2020, no dependencies; API data is only ever set as text. */
(() => {
  'use strict';
  if (window.Frontdesk && window.Frontdesk.version) return;

  // Every text a visitor sees, in one place: translate by passing init({texts: {...}}).
  const TEXTS = {
    title: '{firm} AI Assistant',
    titleNoFirm: 'AI Assistant',
    online: 'Online',
    openChat: 'Chat with the {firm} assistant',
    openChatNoFirm: 'Chat with our assistant',
    closeChat: 'Close chat',
    restart: 'Start a new conversation',
    conversation: 'Conversation',
    messageLabel: 'Your message',
    placeholder: 'Type your question…',
    send: 'Send',
    youSaid: 'You:',
    assistantSaid: 'Assistant:',
    busy: "I'm still answering your previous message. Give me a moment, then send this one again.",
    rateLimited: "That's a lot of messages at once. Please try again in {seconds} seconds.",
    rateLimitedForm: 'Too many submissions from this address. Please try again in {seconds} seconds.',
    expired: 'Our earlier conversation had expired, so I started a new one.',
    offline: "I couldn't reach our server. Please check your connection and try again.",
    genericError: 'Something went wrong on our side. Please try again.',
    tooLong: 'That message is too long for me. Could you shorten it?',
    noReply: 'The answer was cut off. Please try again.',
    sources: 'Sources',
    services: 'Our services',
    slots: 'Free times ({zone})',
    bookTime: 'Book {time}',
    bookingFor: 'Your details for {time}',
    firstName: 'First name',
    lastName: 'Last name',
    name: 'Name',
    email: 'Email',
    phone: 'Phone',
    company: 'Company',
    message: 'How can we help?',
    notes: 'Anything we should know? (optional)',
    service: 'Service of interest',
    anyService: 'Not sure yet',
    optional: '(optional)',
    required: '(required)',
    choose: 'Choose…',
    website: 'Leave this field empty',
    consentBooking: 'You may store these details to hold the call and contact me about it.',
    consentLead: 'You may store these details and contact me about my request.',
    consentNewsletter: 'I agree to receive the newsletter and can unsubscribe at any time.',
    sending: 'Sending…',
    fixFields: 'Please correct the fields marked below.',
    bookCall: 'Book this call',
    cancel: 'Cancel',
    slotTaken: 'Someone took that time just before you. Please pick another one.',
    booked: 'Booked: {call} on {time} with {host}.',
    bookedShort: 'Booked for {time} with {host}.',
    manageBooking: 'Move or cancel this call',
    phoneToCall: 'Phone number to call you on',
    where: 'Where: {where}',
    addToCalendar: 'Add to calendar (.ics)',
    manageInEmail: 'The link to move or cancel the call is in your confirmation email.',
    leadCreated: 'Request received. Your reference: {reference}',
    human: 'Talk to a person',
    humanEmail: 'Email us',
    humanPhone: 'Call us',
    humanForm: 'Leave your details',
    quoteTitle: 'Your development plan request',
    quoteToggle: 'Review and send the details as a form',
    quoteSubmit: 'Send plan request',
    planTitle: 'Get a custom development plan',
    projectType: 'Type of project',
    servicesWanted: 'Services you are interested in (optional)',
    budget: 'Budget',
    timeline: 'Timeline',
    description: 'Describe your project',
    planDone: 'Thank you! Your request is in. Reference: {reference}. We will email you within one business day.',
    consultationTitle: 'Book a consultation',
    consultationSubmit: 'Request a consultation',
    consultationDone: 'Thank you, {name}! Your request is in. Reference: {reference}. We will be in touch within one business day.',
    newsletterTitle: 'Get our newsletter',
    newsletterSubmit: 'Subscribe',
    newsletterDone: 'Almost there: please open the confirmation link we just emailed you.',
    bookingTitle: 'Schedule a call',
    chooseCall: 'Choose a call',
    chooseDay: 'Choose a day',
    times: '{n} times',
    minutes: '{n} minutes',
    timesIn: 'Times shown in {zone}.',
    earlier: 'Earlier',
    later: 'Later',
    weekOf: '{from} – {to}',
    noSlots: 'No free times in these days. Try later dates.',
    noCallTypes: 'No calls can be booked right now.',
    loading: 'Loading…',
    loadFailed: "This couldn't be loaded. Please try again later.",
    retry: 'Try again',
    bookAnother: 'Book another call',
    share: 'Share this article',
    shareOn: 'Share on {network}',
    shares: '{count} shares',
    oneShare: '1 share',
    copied: 'Link copied to the clipboard.',
    networks: { x: 'X', linkedin: 'LinkedIn', facebook: 'Facebook', reddit: 'Reddit', hacker_news: 'Hacker News', email: 'Email', copy_link: 'Copy link' },
    projectTypes: { website: 'Website', web_app: 'Web app or portal', mobile_app: 'Mobile app', api_integration: 'API or integration', modernisation: 'Modernising an existing system', ai_assistant: 'AI assistant', other: 'Something else' },
    budgets: { under_10k: 'Under 10k', '10k_25k': '10k – 25k', '25k_50k': '25k – 50k', '50k_100k': '50k – 100k', over_100k: 'Over 100k', not_sure: 'Not sure yet' },
    timelines: { asap: 'As soon as possible', '1_3_months': 'Within 1 – 3 months', '3_6_months': 'Within 3 – 6 months', '6_plus_months': 'In 6 months or more', flexible: 'Flexible' },
  };
  const PARTS = ['assistant', 'booking', 'consultation', 'plan', 'newsletter', 'shares'];
  const NETWORKS = ['x', 'linkedin', 'facebook', 'reddit', 'hacker_news', 'email', 'copy_link'];
  const UTM = ['source', 'medium', 'campaign', 'term', 'content'];
  const script = document.currentScript;
  const STORE = 'frontdesk.conversation:';

  // ---------------------------------------------------------------- small tools
  let uid = 0;
  const nextId = (p) => `fd-${p}-${++uid}`;
  const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'noValidate', 'tabIndex']);
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(9)) if (kid != null && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  const fill = (s, vars) => String(s).replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] != null ? String(vars[k]) : m));
  const emit = (name, detail) => window.dispatchEvent(new CustomEvent(`frontdesk:${name}`, { detail }));
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }
  const store = {
    get(k) { try { return sessionStorage.getItem(STORE + k); } catch { return null; } },
    set(k, v) { try { sessionStorage.setItem(STORE + k, v); } catch { /* storage off: no memory */ } },
    del(k) { try { sessionStorage.removeItem(STORE + k); } catch { /* nothing kept */ } },
  };
  // Only http(s) links, resolved against the host page; anything else is dropped.
  function safeUrl(u, base) {
    try {
      const url = new URL(u, base || location.href);
      return ['http:', 'https:', 'mailto:', 'tel:'].includes(url.protocol) ? url.href : null;
    } catch { return null; }
  }
  function link(href, text, props) {
    const url = safeUrl(href);
    return url ? h('a', { href: url, ...props }, text) : h('span', null, text);
  }
  const reducedMotion = () => window.matchMedia && matchMedia('(prefers-reduced-motion: reduce)').matches;

  // Colours: the accent as given, a readable text colour on it, and an "ink" shade of it that
  // reads on white (for links), so any accent keeps WCAG AA contrast.
  function rgb(c) {
    const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(c || '').trim());
    if (!m) return null;
    const hex = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
    const n = parseInt(hex, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  function lum(c) {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  }
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const hex = (c) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
  function palette(accent) {
    const c = rgb(accent) || rgb('#0b5fff');
    const white = [255, 255, 255];
    let ink = c;
    for (let i = 0; i < 20 && contrast(ink, white) < 4.6; i++) ink = ink.map((v) => v * 0.88);
    const onAccent = contrast(c, white) >= 4.5 ? '#ffffff' : '#111111';
    return { accent: hex(c), ink: hex(ink), onAccent };
  }

  // ---------------------------------------------------------------- styles
  const CSS = `
:host{all:initial;display:block;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2330;--fd-accent:#0b5fff;--fd-ink:#0b5fff;--fd-on-accent:#fff;--fd-line:#d5dae3;--fd-soft:#f3f5f9;--fd-muted:#4d5566;--fd-bad:#b3261e;--fd-good:#146c2e}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.fd-sr{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
a{color:var(--fd-ink);text-underline-offset:2px}
:focus-visible{outline:3px solid var(--fd-ink);outline-offset:2px}
button,input,select,textarea{font:inherit;color:inherit}
h2,h3,h4{margin:0 0 .5em;line-height:1.25}
h2{font-size:1.15em}h3{font-size:1.05em}h4{font-size:1em}
p{margin:0 0 .6em}
.fd-btn{display:inline-flex;align-items:center;justify-content:center;gap:.4em;min-height:40px;padding:.5em 1em;border:1px solid var(--fd-accent);border-radius:8px;background:var(--fd-accent);color:var(--fd-on-accent);font-weight:600;cursor:pointer}
.fd-btn:hover{filter:brightness(.95)}
.fd-btn[disabled]{opacity:.6;cursor:progress}
.fd-btn-ghost{background:#fff;color:var(--fd-ink);border-color:var(--fd-line)}
.fd-link-btn{background:none;border:0;padding:0;color:var(--fd-ink);text-decoration:underline;cursor:pointer}
.fd-card{border:1px solid var(--fd-line);border-radius:10px;padding:1em;background:#fff}
.fd-form{display:grid;gap:.75em}
.fd-row{display:grid;grid-template-columns:1fr 1fr;gap:.75em}
@media (max-width:480px){.fd-row{grid-template-columns:1fr}}
.fd-field{display:grid;gap:.25em}
.fd-field label,.fd-field legend{font-weight:600;font-size:.93em}
.fd-field .fd-hint{font-weight:400;color:var(--fd-muted)}
.fd-field input:not([type=checkbox]):not([type=radio]),.fd-field select,.fd-field textarea{width:100%;min-height:40px;padding:.45em .6em;border:1px solid #8a93a5;border-radius:6px;background:#fff}
.fd-field textarea{min-height:90px;resize:vertical}
.fd-field [aria-invalid=true]{border-color:var(--fd-bad);box-shadow:0 0 0 1px var(--fd-bad)}
fieldset.fd-field{border:0;margin:0;padding:0;min-width:0}
.fd-check{display:flex;gap:.5em;align-items:flex-start;font-weight:400!important}
.fd-check input{width:18px;height:18px;margin:.15em 0 0;flex:none;accent-color:var(--fd-accent)}
.fd-checks{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.3em .8em}
.fd-err{color:var(--fd-bad);font-size:.9em;margin:0}
.fd-status{margin:0;font-size:.93em}
.fd-status.fd-bad,.fd-alert{color:var(--fd-bad)}
.fd-alert{border-left:4px solid var(--fd-bad);padding:.4em .7em;background:#fdf2f1;border-radius:4px}
.fd-alert ul{margin:.3em 0 0;padding-left:1.2em}
.fd-done{border-left:4px solid var(--fd-good);padding:.7em .9em;background:#eef8f0;border-radius:6px}
.fd-done:focus{outline:none}
.fd-trap{position:absolute!important;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
.fd-slots{display:flex;flex-wrap:wrap;gap:.4em;margin:.4em 0}
.fd-slot{min-height:36px;padding:.35em .7em;border:1px solid var(--fd-ink);border-radius:18px;background:#fff;color:var(--fd-ink);cursor:pointer;font-weight:600}
.fd-slot[aria-pressed=true]{background:var(--fd-ink);color:#fff}
.fd-slot[disabled]{opacity:.45;text-decoration:line-through;cursor:not-allowed}
.fd-muted{color:var(--fd-muted);font-size:.9em}
.fd-services{display:grid;gap:.5em;margin:.4em 0}
.fd-service{border:1px solid var(--fd-line);border-radius:8px;padding:.55em .7em;background:#fff}
.fd-service h3{margin:0 0 .2em;font-size:1em}
.fd-service p{margin:0;color:var(--fd-muted);font-size:.92em}
.fd-sources{margin:.4em 0 0;font-size:.9em}
.fd-sources ul{margin:.2em 0 0;padding-left:1.2em}
.fd-contact{margin:.2em 0 .6em;padding-left:1.2em}
.fd-ref{font-weight:700;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
/* the chat */
.fd-bubble{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;background:var(--fd-accent);color:var(--fd-on-accent);box-shadow:0 6px 24px rgba(16,24,40,.28);cursor:pointer;display:grid;place-items:center;transition:transform .15s ease}
.fd-bubble:hover{transform:scale(1.05)}
.fd-bubble svg{width:28px;height:28px;fill:currentColor}
.fd-bubble:focus-visible{outline:3px solid #111;outline-offset:3px;box-shadow:0 0 0 6px #fff}
.fd-panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:min(400px,calc(100vw - 24px));height:min(620px,calc(100vh - 112px));display:flex;flex-direction:column;background:#fff;border:1px solid var(--fd-line);border-radius:14px;box-shadow:0 12px 48px rgba(16,24,40,.3);overflow:hidden;animation:fd-in .18s ease-out}
@keyframes fd-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
@media (max-width:480px){.fd-panel{right:8px;left:8px;width:auto;bottom:84px;height:calc(100vh - 96px)}}
.fd-head{display:flex;align-items:center;gap:.5em;padding:.75em .9em;background:var(--fd-accent);color:var(--fd-on-accent)}
.fd-head h2{margin:0;font-size:1em;flex:1;display:flex;flex-wrap:wrap;align-items:center;gap:.1em .5em}
.fd-online{font-size:.75em;font-weight:700;letter-spacing:.06em;text-transform:uppercase;display:inline-flex;align-items:center;gap:.4em}
.fd-dot{width:8px;height:8px;border-radius:50%;background:#3ddc84;box-shadow:0 0 0 2px rgba(255,255,255,.6)}
.fd-icon{width:36px;height:36px;border:0;border-radius:8px;background:transparent;color:inherit;cursor:pointer;font-size:20px;line-height:1;display:grid;place-items:center}
.fd-icon:hover{background:rgba(255,255,255,.18)}
.fd-icon:focus-visible{outline:3px solid currentColor;outline-offset:-3px}
.fd-log{flex:1;overflow-y:auto;padding:.9em;display:flex;flex-direction:column;gap:.7em;background:var(--fd-soft);overscroll-behavior:contain}
.fd-msg{max-width:92%}
.fd-msg-visitor{align-self:flex-end}
.fd-msg-assistant{align-self:flex-start;width:92%}
.fd-text{white-space:pre-wrap;overflow-wrap:anywhere;padding:.55em .8em;border-radius:12px;display:inline-block;max-width:100%}
.fd-msg-visitor .fd-text{background:var(--fd-accent);color:var(--fd-on-accent);border-bottom-right-radius:4px}
.fd-msg-assistant .fd-text{background:#fff;border:1px solid var(--fd-line);border-bottom-left-radius:4px}
.fd-msg-notice .fd-text{background:#fff8e1;border-color:#e0c36a}
.fd-parts{display:grid;gap:.5em;margin-top:.45em}
.fd-parts>.fd-card{padding:.75em}
.fd-typing{display:inline-flex;gap:4px;padding:.25em 0}
.fd-typing i{width:7px;height:7px;border-radius:50%;background:var(--fd-muted);animation:fd-blink 1s infinite}
.fd-typing i:nth-child(2){animation-delay:.15s}.fd-typing i:nth-child(3){animation-delay:.3s}
@keyframes fd-blink{0%,80%,100%{opacity:.25}40%{opacity:1}}
.fd-compose{display:flex;gap:.5em;padding:.65em;border-top:1px solid var(--fd-line);background:#fff}
.fd-compose textarea{flex:1;resize:none;min-height:42px;max-height:120px;padding:.55em .7em;border:1px solid #8a93a5;border-radius:8px}
/* pieces on the page */
.fd-piece{display:grid;gap:.8em}
.fd-piece>h2{margin:0}
.fd-calls{display:grid;gap:.5em}
.fd-call{display:flex;gap:.6em;align-items:flex-start;border:1px solid var(--fd-line);border-radius:8px;padding:.6em .75em;cursor:pointer}
.fd-call:has(input:checked){border-color:var(--fd-ink);box-shadow:0 0 0 1px var(--fd-ink)}
.fd-call input{margin-top:.25em;accent-color:var(--fd-accent)}
.fd-call span{display:grid}
.fd-nav{display:flex;align-items:center;justify-content:space-between;gap:.5em}
.fd-days{display:grid;gap:.8em}
.fd-chips{display:flex;flex-wrap:wrap;gap:.4em}
.fd-chip{display:grid;min-width:6.5em;padding:.4em .6em;border:1px solid var(--fd-line);border-radius:8px;background:#fff;cursor:pointer;text-align:center;font-weight:600}
.fd-chip .fd-muted{font-weight:400;font-size:.8em}
.fd-chip[aria-pressed=true]{border-color:var(--fd-ink);box-shadow:0 0 0 2px var(--fd-ink)}
.fd-day h3{font-size:.95em;margin:0 0 .25em}
.fd-shares{display:flex;flex-wrap:wrap;gap:.4em;align-items:center}
.fd-share{display:inline-flex;align-items:center;gap:.45em;min-height:36px;padding:.3em .75em;border:1px solid var(--fd-line);border-radius:18px;background:#fff;cursor:pointer}
.fd-share:hover{border-color:var(--fd-ink)}
.fd-count{min-width:1.6em;padding:0 .4em;border-radius:9px;background:var(--fd-soft);font-size:.85em;font-weight:700;text-align:center}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important}}
`;
  let sheet = null;
  function style(root) {
    try {
      if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sheet];
    } catch {
      root.append(h('style', { text: CSS }));
    }
  }
  function applyColours(host, ctx) {
    host.style.setProperty('--fd-accent', ctx.colours.accent);
    host.style.setProperty('--fd-ink', ctx.colours.ink);
    host.style.setProperty('--fd-on-accent', ctx.colours.onAccent);
  }

  // ---------------------------------------------------------------- the API
  function retryAfter(res) {
    const v = res.headers.get('retry-after');
    const n = Number(v);
    if (Number.isFinite(n) && n >= 0) return Math.max(1, Math.ceil(n));
    const at = Date.parse(v || '');
    return Number.isFinite(at) ? Math.max(1, Math.ceil((at - Date.now()) / 1000)) : 30;
  }
  async function call(ctx, path, { method = 'GET', body, key, timeout = 20000, signal } = {}) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeout);
    if (signal) signal.addEventListener('abort', () => ctrl.abort());
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    try {
      const res = await fetch(ctx.api + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit', mode: 'cors', signal: ctrl.signal,
      });
      const text = await res.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch { data = null; }
      return { ok: res.ok, status: res.status, data, retryAfter: res.status === 429 ? retryAfter(res) : 0 };
    } catch {
      return { ok: false, status: 0, data: null, offline: true };
    } finally {
      clearTimeout(timer);
    }
  }
  function problemText(ctx, r, rateKey = 'rateLimited') {
    const T = ctx.texts;
    if (r.offline) return T.offline;
    if (r.status === 429) return fill(T[rateKey], { seconds: r.retryAfter || 30 });
    if (r.status >= 500 || !r.data || !r.data.detail) return T.genericError;
    return r.data.detail;
  }
  const items = (r) => (r && r.data && Array.isArray(r.data.items) ? r.data.items : []);
  function once(ctx, key, fn) {
    ctx.memo = ctx.memo || {};
    if (!ctx.memo[key]) ctx.memo[key] = fn().then((r) => { if (!r.ok) delete ctx.memo[key]; return r; });
    return ctx.memo[key];
  }
  const site = (ctx) => once(ctx, 'site', () => call(ctx, '/v1/site'));
  const services = (ctx) => once(ctx, 'services', () => call(ctx, '/v1/services'));

  function utm() {
    const q = new URLSearchParams(location.search);
    const out = {};
    for (const k of UTM) { const v = q.get(`utm_${k}`); if (v) out[k] = v.slice(0, 200); }
    return out;
  }
  // Site pages for what the assistant cites: posts at /blog/{slug}, services at
  // /services/{slug} unless links say otherwise; other paths are taken as site paths.
  function sitePath(ctx, source) {
    const m = /^\/v1\/(posts|services)\/([^/?#]+)/.exec(source.path || '');
    const kind = m ? (m[1] === 'posts' ? 'post' : 'service') : source.kind;
    const slug = m ? decodeURIComponent(m[2]) : source.slug;
    const rule = ctx.links[kind];
    if (slug && typeof rule === 'function') return rule(slug);
    if (slug && typeof rule === 'string') return rule.replace('{slug}', encodeURIComponent(slug));
    return m ? null : source.path;
  }
  function when(ctx, iso, tz, opts) {
    try {
      return new Intl.DateTimeFormat(ctx.locale, { timeZone: tz || ctx.timeZone, ...opts }).format(new Date(iso));
    } catch { return iso; }
  }
  const longTime = (ctx, iso, tz) => when(ctx, iso, tz, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

  // ---------------------------------------------------------------- forms
  // A field: {name, label, type, required, options: [[value, label]], value, autocomplete, hint}.
  function field(ctx, f) {
    const T = ctx.texts;
    const id = nextId(f.name);
    const err = h('p', { class: 'fd-err', id: `${id}-err`, hidden: true });
    const mark = f.required ? h('span', { class: 'fd-sr' }, ` ${T.required}`) : null;
    const hint = f.required || f.type === 'checkbox' ? null : h('span', { class: 'fd-hint' }, ` ${T.optional}`);
    let control; let row; let get; let set;
    if (f.type === 'checkbox') {
      control = h('input', { type: 'checkbox', id, name: f.name, checked: !!f.value, 'aria-required': f.required ? 'true' : null });
      row = h('div', { class: 'fd-field' }, h('label', { class: 'fd-check', for: id }, control, h('span', null, f.label, mark)), err);
      get = () => control.checked; set = (v) => { control.checked = !!v; };
    } else if (f.type === 'checkboxes') {
      const boxes = f.options.map(([v, l]) => {
        const bid = nextId(f.name);
        const box = h('input', { type: 'checkbox', id: bid, name: f.name, value: v, checked: (f.value || []).includes(v) });
        return [box, h('label', { class: 'fd-check', for: bid }, box, h('span', null, l))];
      });
      control = h('fieldset', { class: 'fd-field', id }, h('legend', null, f.label), h('div', { class: 'fd-checks' }, boxes.map((b) => b[1])), err);
      row = control;
      get = () => boxes.filter(([b]) => b.checked).map(([b]) => b.value);
      set = (vals) => boxes.forEach(([b]) => { b.checked = (vals || []).includes(b.value); });
    } else {
      const attrs = { id, name: f.name, autocomplete: f.autocomplete || null, 'aria-required': f.required ? 'true' : null };
      if (f.type === 'select') {
        control = h('select', attrs, h('option', { value: '' }, f.required ? T.choose : f.empty || T.choose),
          f.options.map(([v, l]) => h('option', { value: v }, l)));
        control.value = f.options.some(([v]) => v === f.value) ? f.value : '';
      } else if (f.type === 'textarea') {
        control = h('textarea', { ...attrs, rows: f.rows || 4, maxlength: f.max || null });
        control.value = f.value || '';
      } else {
        control = h('input', { ...attrs, type: f.type || 'text', value: f.value || '', maxlength: f.max || null, inputmode: f.inputmode || null });
      }
      row = h('div', { class: 'fd-field' }, h('label', { for: id }, f.label, mark, hint), control, err);
      get = () => control.value.trim(); set = (v) => { control.value = v || ''; };
    }
    const target = control;
    return {
      name: f.name, row, get, set,
      focus: () => (f.type === 'checkboxes' ? control.querySelector('input') : control).focus(),
      error(msg) {
        err.textContent = msg || '';
        err.hidden = !msg;
        if (msg) { target.setAttribute('aria-invalid', 'true'); target.setAttribute('aria-describedby', err.id); } else { target.removeAttribute('aria-invalid'); target.removeAttribute('aria-describedby'); }
      },
    };
  }
  const pairs = (obj, keys) => (keys || Object.keys(obj)).map((k) => [k, obj[k] || k]);

  // A form that posts to the API: field errors from a 422 beside each field, one
  // Idempotency-Key per submission (kept while the same body is retried), the button
  // disabled while in flight, a honeypot, and the answer in place of the form.
  function apiForm(ctx, spec) {
    const T = ctx.texts;
    const fields = spec.fields.map((f) => field(ctx, f));
    const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
    const trapId = nextId('website');
    const trap = h('input', { type: 'text', id: trapId, name: 'website', tabindex: '-1', autocomplete: 'off', value: '' });
    const status = h('div', { class: 'fd-status', role: 'status' });
    const alert = h('div', { class: 'fd-alert', role: 'alert', hidden: true });
    const button = h('button', { type: 'submit', class: 'fd-btn' }, spec.submit);
    const titleId = spec.title ? nextId('form') : null;
    const form = h('form', { class: 'fd-form', noValidate: true, 'aria-labelledby': titleId },
      spec.title ? h(spec.heading || 'h3', { id: titleId }, spec.title) : null,
      alert, layout(fields, spec.rows),
      spec.honeypot === false ? null : h('div', { class: 'fd-trap', 'aria-hidden': 'true' }, h('label', { for: trapId }, T.website), trap),
      h('div', null, button, spec.secondary || null), status);
    const attempt = { key: null, body: null };
    let busy = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (busy) return;
      const values = Object.fromEntries(fields.map((f) => [f.name, f.get()]));
      const body = spec.body(values);
      if (spec.honeypot !== false) body.website = trap.value || undefined;
      const text = JSON.stringify(body);
      if (text !== attempt.body) { attempt.body = text; attempt.key = uuid(); }
      busy = true; button.disabled = true; form.setAttribute('aria-busy', 'true');
      status.className = 'fd-status'; status.textContent = T.sending;
      const r = await call(ctx, spec.path, { method: 'POST', body, key: spec.idempotent === false ? null : attempt.key });
      busy = false; form.removeAttribute('aria-busy'); status.textContent = '';
      fields.forEach((f) => f.error(''));
      alert.hidden = true; alert.replaceChildren();
      if (r.ok) {
        const done = spec.done(r.data, values);
        done.classList.add('fd-done'); done.tabIndex = -1; done.setAttribute('role', 'status');
        form.replaceWith(done);
        done.focus({ preventScroll: false });
        return;
      }
      if (r.status === 422 && r.data && Array.isArray(r.data.errors)) {
        const loose = [];
        let first = null;
        for (const e2 of r.data.errors) {
          const whole = String(e2.field || '');
          const name = whole.split(/[.[]/)[0];
          const f = byName[whole] || byName[(spec.alias && spec.alias[name]) || name];
          if (f) { f.error(e2.message); first = first || f; } else loose.push(e2.message);
        }
        alert.append(h('p', { style: null }, T.fixFields));
        if (loose.length) alert.append(h('ul', null, loose.map((m) => h('li', null, m))));
        alert.hidden = false;
        if (first) first.focus();
        button.disabled = false;
        return;
      }
      const handled = spec.failed && spec.failed(r, status);
      if (!handled) {
        status.className = 'fd-status fd-bad';
        status.textContent = problemText(ctx, r, 'rateLimitedForm');
      }
      if (r.status === 429) setTimeout(() => { button.disabled = false; }, (r.retryAfter || 30) * 1000);
      else button.disabled = false;
    });
    return { form, fields: byName, button };
  }
  function layout(fields, rows) {
    if (!rows) return fields.map((f) => f.row);
    const used = new Set();
    const out = [];
    for (const f of fields) {
      if (used.has(f.name)) continue;
      const pair = rows.find((r) => r.includes(f.name));
      if (pair) { pair.forEach((n) => used.add(n)); out.push(h('div', { class: 'fd-row' }, pair.map((n) => fields.find((x) => x.name === n).row))); } else out.push(f.row);
    }
    return out;
  }
  const common = () => ({ source_page: location.pathname.slice(0, 500), utm: utm() });
  const consentVersion = (ctx) => (ctx.consentTextVersion ? { consent_text_version: ctx.consentTextVersion } : {});

  function consultationForm(ctx, { path = '/v1/consultations', title, heading, service, serviceOptions = [], source } = {}) {
    const T = ctx.texts;
    const fields = [
      { name: 'first_name', label: T.firstName, required: true, autocomplete: 'given-name', max: 100 },
      { name: 'last_name', label: T.lastName, required: true, autocomplete: 'family-name', max: 100 },
      { name: 'email', label: T.email, type: 'email', required: true, autocomplete: 'email' },
      { name: 'phone', label: T.phone, type: 'tel', autocomplete: 'tel', max: 40 },
      { name: 'company', label: T.company, autocomplete: 'organization', max: 200 },
    ];
    if (serviceOptions.length) fields.push({ name: 'service', label: T.service, type: 'select', options: serviceOptions, value: service, empty: T.anyService });
    fields.push({ name: 'message', label: T.message, type: 'textarea', required: true, max: 5000 },
      { name: 'consent', label: T.consentLead, type: 'checkbox', required: true });
    return apiForm(ctx, {
      path, title, heading, fields, submit: T.consultationSubmit,
      rows: [['first_name', 'last_name'], ['email', 'phone']],
      body: (v) => ({ ...v, phone: v.phone || undefined, company: v.company || undefined, service: v.service || undefined, ...common(), ...(source ? { source_page: source } : {}), ...consentVersion(ctx) }),
      done: (d, v) => { emit('lead', { kind: 'consultation', reference: d.reference }); return h('div', null, h('p', null, fill(T.consultationDone, { name: v.first_name, reference: d.reference }))); },
    });
  }
  function planForm(ctx, { path = '/v1/plan-requests', title, heading, prefill = {}, serviceOptions = [], submit } = {}) {
    const T = ctx.texts;
    const fields = [
      { name: 'name', label: T.name, required: true, autocomplete: 'name', value: prefill.name, max: 200 },
      { name: 'email', label: T.email, type: 'email', required: true, autocomplete: 'email', value: prefill.email },
      { name: 'company', label: T.company, required: true, autocomplete: 'organization', value: prefill.company, max: 200 },
      { name: 'project_type', label: T.projectType, type: 'select', required: true, options: pairs(T.projectTypes), value: prefill.project_type },
    ];
    if (serviceOptions.length) fields.push({ name: 'services', label: T.servicesWanted, type: 'checkboxes', options: serviceOptions, value: prefill.services || [] });
    fields.push(
      { name: 'budget_range', label: T.budget, type: 'select', required: true, options: pairs(T.budgets), value: prefill.budget_range },
      { name: 'timeline', label: T.timeline, type: 'select', required: true, options: pairs(T.timelines), value: prefill.timeline },
      { name: 'description', label: T.description, type: 'textarea', required: true, value: prefill.description, max: 10000 },
      { name: 'consent', label: T.consentLead, type: 'checkbox', required: true },
    );
    return apiForm(ctx, {
      path, title, heading, fields, submit: submit || T.quoteSubmit,
      rows: [['name', 'email'], ['budget_range', 'timeline']],
      body: (v) => ({ ...v, services: v.services || prefill.services || [], ...common(), ...consentVersion(ctx) }),
      done: (d) => { emit('lead', { kind: 'plan', reference: d.reference }); return h('div', null, h('p', null, fill(T.planDone, { reference: d.reference }))); },
    });
  }
  async function serviceOptions(ctx) {
    const r = await services(ctx);
    return items(r).map((s) => [s.slug, s.title]);
  }
  function splitName(name) {
    const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
    return parts.length < 2 ? [parts[0] || '', ''] : [parts.slice(0, -1).join(' '), parts[parts.length - 1]];
  }

  // The booking form for one chosen time; `onTaken` runs when the time went meanwhile.
  // A call type's questions as form fields (named `answers.{id}`, as the API's errors name
  // them), and the visitor's phone when the host calls them.
  function questionFields(ctx, details) {
    const T = ctx.texts;
    const out = (details.questions || []).map((q) => {
      const f = { name: `answers.${q.id}`, label: q.label, required: !!q.required };
      if (q.kind === 'long_text') return { ...f, type: 'textarea', rows: 3, max: 2000 };
      if (q.kind === 'choice') return { ...f, type: 'select', options: (q.options || []).map((o) => [o, o]) };
      if (q.kind === 'checkbox') return { ...f, type: 'checkbox' };
      return { ...f, max: 500 };
    });
    if (details.phone_required) out.unshift({ name: 'phone', label: T.phoneToCall, type: 'tel', required: true, autocomplete: 'tel', max: 40 });
    return out;
  }
  function bookingBody(v) {
    const answers = {};
    const rest = {};
    for (const [k, val] of Object.entries(v)) {
      if (k.startsWith('answers.')) answers[k.slice(8)] = val; else rest[k] = val;
    }
    return { ...rest, answers, phone: rest.phone || undefined };
  }
  function bookingForm(ctx, { callType, start, startUtc, timeZone, path = '/v1/bookings', known = {}, onTaken, onDone, onCancel, callName, details = {} }) {
    const T = ctx.texts;
    const label = longTime(ctx, startUtc || start, timeZone);
    const [first, last] = splitName(known.name);
    const cancel = onCancel ? h('button', { type: 'button', class: 'fd-btn fd-btn-ghost', style: null, onclick: onCancel }, T.cancel) : null;
    if (cancel) cancel.style.marginLeft = '.5em';
    const built = apiForm(ctx, {
      path, title: fill(T.bookingFor, { time: label }), heading: 'h3', submit: T.bookCall, secondary: cancel, honeypot: false,
      fields: [
        { name: 'first_name', label: T.firstName, required: true, autocomplete: 'given-name', value: first, max: 100 },
        { name: 'last_name', label: T.lastName, required: true, autocomplete: 'family-name', value: last, max: 100 },
        { name: 'email', label: T.email, type: 'email', required: true, autocomplete: 'email', value: known.email },
        ...questionFields(ctx, details),
        { name: 'notes', label: T.notes, type: 'textarea', rows: 2, max: 2000 },
        { name: 'consent', label: T.consentBooking, type: 'checkbox', required: true },
      ],
      rows: [['first_name', 'last_name']],
      body: (v) => ({ call_type: callType, start, time_zone: timeZone, ...bookingBody(v), ...consentVersion(ctx) }),
      failed: (r, status) => {
        if (r.status === 409 && r.data && /slot-taken$/.test(r.data.type || '')) {
          status.className = 'fd-status fd-bad'; status.textContent = T.slotTaken;
          if (onTaken) onTaken();
          return true;
        }
        return false;
      },
      done: (d) => {
        emit('booking', { booking: d.booking, manage_url: d.manage_url });
        if (onDone) onDone(d);
        return bookedCard(ctx, { call: callName || d.booking.call_type_name, start: d.booking.start_utc, tz: d.booking.time_zone, host: d.booking.host_name, manage: d.manage_url, invite: d.invite_url, where: d.booking.location && d.booking.location.text });
      },
    });
    return built.form;
  }
  function bookedCard(ctx, { call: name, start, tz, host, manage, invite, where }) {
    const T = ctx.texts;
    const time = longTime(ctx, start, tz);
    return h('div', { class: 'fd-booked' },
      h('p', null, name ? fill(T.booked, { call: name, time, host }) : fill(T.bookedShort, { time, host })),
      where ? h('p', { class: 'fd-where' }, fill(T.where, { where })) : null,
      manage ? h('p', null, link(manage, T.manageBooking, { target: '_blank', rel: 'noopener' })) : h('p', { class: 'fd-muted' }, T.manageInEmail),
      invite ? h('p', null, link(invite, T.addToCalendar)) : null);
  }

  // ---------------------------------------------------------------- reply parts
  function renderPart(ctx, chat, part) {
    const T = ctx.texts;
    switch (part && part.type) {
      case 'sources': {
        const list = (part.items || []).map((s) => { const p = sitePath(ctx, s); return h('li', null, p ? link(p, s.title) : s.title); });
        return list.length ? h('div', { class: 'fd-sources' }, h('strong', null, T.sources), h('ul', { 'aria-label': T.sources }, list)) : null;
      }
      case 'services':
        return h('div', { class: 'fd-services', role: 'list', 'aria-label': T.services }, (part.items || []).map((s) => {
          const p = sitePath(ctx, { kind: 'service', slug: s.slug, path: `/v1/services/${encodeURIComponent(s.slug)}` });
          return h('div', { class: 'fd-service', role: 'listitem' }, h('h3', null, p ? link(p, s.title) : s.title), h('p', null, s.summary));
        }));
      case 'slots': return slotsPart(ctx, chat, part);
      case 'quote_form': return quotePart(ctx, chat, part);
      case 'human': return humanPart(ctx, part);
      case 'lead_created':
        if (!chat.replaying) emit('lead', { kind: 'assistant', reference: part.reference });
        return h('div', { class: 'fd-done', role: 'status' }, fill(T.leadCreated, { reference: '' }), h('span', { class: 'fd-ref' }, part.reference));
      case 'booking_created':
        return h('div', { class: 'fd-done' }, bookedCard(ctx, { start: part.start, tz: ctx.timeZone, host: part.host, manage: part.manage_url }));
      default: return null;
    }
  }
  function actionPath(part, fallback) {
    const p = part.action && part.action.path;
    return typeof p === 'string' && /^\/v1\/[\w\-/]+$/.test(p) ? p : fallback;
  }
  function slotsPart(ctx, chat, part) {
    const T = ctx.texts;
    const tz = part.time_zone || ctx.timeZone;
    const box = h('div', { class: 'fd-card' });
    const heading = h('h3', null, fill(T.slots, { zone: tz }));
    const holder = h('div');
    let details = null;
    let clicks = 0;
    const buttons = (part.items || []).map((s) => {
      const b = h('button', { type: 'button', class: 'fd-slot', 'aria-pressed': 'false', 'data-start': s.start }, longTime(ctx, s.start_utc || s.start, tz));
      b.addEventListener('click', async () => {
        buttons.forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
        const mine = ++clicks;
        // The call type's questions, fetched once per offer (again after a failure).
        if (!details) {
          const r = await call(ctx, `/v1/call-types/${encodeURIComponent(part.call_type)}`);
          if (r.ok && r.data) details = r.data;
        }
        // Another time was chosen meanwhile: that one's form is shown.
        if (mine !== clicks) return;
        const form = bookingForm(ctx, {
          callType: part.call_type, details: details || {}, start: s.start, startUtc: s.start_utc, timeZone: tz, path: actionPath(part, '/v1/bookings'), known: chat.known,
          onTaken: () => { b.disabled = true; b.setAttribute('aria-pressed', 'false'); },
          onDone: () => { box.querySelector('.fd-slots').remove(); heading.remove(); },
          onCancel: () => { holder.replaceChildren(); b.setAttribute('aria-pressed', 'false'); b.focus(); },
        });
        holder.replaceChildren(form);
        const first = form.querySelector('input');
        if (first) first.focus();
      });
      return b;
    });
    box.append(heading, h('div', { class: 'fd-slots', role: 'group', 'aria-label': fill(T.slots, { zone: tz }) }, buttons), holder);
    return box;
  }
  function quotePart(ctx, chat, part) {
    const T = ctx.texts;
    const prefill = part.prefill || {};
    if (prefill.name || prefill.email) chat.known = { name: prefill.name || chat.known.name, email: prefill.email || chat.known.email };
    // Only the newest form stays in the chat: each step of a quote sends it again.
    chat.log.querySelectorAll('.fd-quote').forEach((old) => old.remove());
    const panelId = nextId('quote');
    const body = h('div', { id: panelId, hidden: true });
    const toggle = h('button', { type: 'button', class: 'fd-link-btn', 'aria-expanded': 'false', 'aria-controls': panelId }, T.quoteToggle);
    let built = false;
    toggle.addEventListener('click', async () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      body.hidden = !open;
      if (open && !built) {
        built = true;
        const opts = await serviceOptions(ctx);
        const f = planForm(ctx, { path: actionPath(part, '/v1/plan-requests'), title: T.quoteTitle, heading: 'h3', prefill, serviceOptions: opts });
        body.append(f.form);
      }
      if (open) { const first = body.querySelector('input,select,textarea'); if (first) first.focus(); }
    });
    return h('div', { class: 'fd-card fd-quote' }, toggle, body);
  }
  function humanPart(ctx, part) {
    const T = ctx.texts;
    const panelId = nextId('human');
    const body = h('div', { id: panelId, hidden: true });
    const toggle = h('button', { type: 'button', class: 'fd-btn fd-btn-ghost', 'aria-expanded': 'false', 'aria-controls': panelId }, T.humanForm);
    let built = false;
    toggle.addEventListener('click', async () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      body.hidden = !open;
      if (open && !built) {
        built = true;
        const f = consultationForm(ctx, { path: actionPath(part, '/v1/consultations'), serviceOptions: await serviceOptions(ctx) });
        body.append(f.form);
      }
      if (open) { const first = body.querySelector('input'); if (first) first.focus(); }
    });
    const tel = part.phone ? `tel:${String(part.phone).replace(/[^\d+]/g, '')}` : null;
    return h('div', { class: 'fd-card' }, h('h3', null, T.human),
      h('ul', { style: null, class: 'fd-contact' },
        part.email ? h('li', null, `${T.humanEmail}: `, link(`mailto:${part.email}`, part.email)) : null,
        part.phone ? h('li', null, `${T.humanPhone}: `, link(tel, part.phone)) : null),
      toggle, body);
  }

  // ---------------------------------------------------------------- the chat
  const ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01zm5 0a1.5 1.5 0 1 0 0-.01z';
  function svgIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('aria-hidden', 'true'); svg.setAttribute('focusable', 'false');
    const p = document.createElementNS(ns, 'path'); p.setAttribute('d', ICON);
    svg.append(p);
    return svg;
  }

  function createChat(ctx) {
    const T = ctx.texts;
    const host = h('div', { 'data-frontdesk-widget': '', id: 'frontdesk-widget' });
    const root = host.attachShadow({ mode: 'open' });
    style(root); applyColours(host, ctx);
    const panelId = nextId('panel'); const titleId = nextId('title'); const inputId = nextId('input');
    const titleText = h('span', { class: 'fd-title-text' }, T.titleNoFirm);
    const bubble = h('button', { type: 'button', class: 'fd-bubble', 'aria-expanded': 'false', 'aria-controls': panelId, 'aria-label': T.openChatNoFirm }, svgIcon());
    const log = h('div', { class: 'fd-log', role: 'log', 'aria-live': 'polite', 'aria-label': T.conversation, tabindex: '0' });
    const input = h('textarea', { id: inputId, rows: '1', placeholder: T.placeholder, maxlength: '2000', autocomplete: 'off' });
    const sendBtn = h('button', { type: 'submit', class: 'fd-btn' }, T.send);
    const compose = h('form', { class: 'fd-compose' }, h('label', { class: 'fd-sr', for: inputId }, T.messageLabel), input, sendBtn);
    const panel = h('div', { class: 'fd-panel', id: panelId, role: 'dialog', 'aria-labelledby': titleId, hidden: true },
      h('div', { class: 'fd-head' },
        h('h2', { id: titleId }, titleText, h('span', { class: 'fd-online' }, h('span', { 'aria-hidden': 'true' }, '·'), h('span', { class: 'fd-dot', 'aria-hidden': 'true' }), T.online)),
        h('button', { type: 'button', class: 'fd-icon', 'aria-label': T.restart, title: T.restart, onclick: () => restart() }, '↻'),
        h('button', { type: 'button', class: 'fd-icon fd-close', 'aria-label': T.closeChat, title: T.closeChat, onclick: () => close() }, '×')),
      log, compose);
    root.append(panel, bubble);
    document.body.append(host);

    const chat = { host, root, log, known: {}, id: null, loaded: null, sending: false };
    const storeKey = ctx.api;

    site(ctx).then((r) => {
      const firm = r.ok && r.data && r.data.firm_name;
      if (!firm) return;
      titleText.textContent = fill(T.title, { firm });
      bubble.setAttribute('aria-label', fill(T.openChat, { firm }));
    });

    function scroll() { log.scrollTo({ top: log.scrollHeight, behavior: reducedMotion() ? 'auto' : 'smooth' }); }
    function message(role, text, { notice = false, engine } = {}) {
      const el = h('div', { class: `fd-msg fd-msg-${role}${notice ? ' fd-msg-notice' : ''}`, 'data-engine': engine || null },
        h('span', { class: 'fd-sr' }, role === 'visitor' ? T.youSaid : T.assistantSaid), ' ',
        h('div', { class: 'fd-text' }, text || ''), h('div', { class: 'fd-parts' }));
      log.append(el);
      scroll();
      return el;
    }
    function renderReply(el, reply) {
      el.querySelector('.fd-text').textContent = reply.text || '';
      if (reply.engine) el.setAttribute('data-engine', reply.engine);
      const holder = el.querySelector('.fd-parts');
      holder.replaceChildren();
      for (const p of reply.parts || []) { const node = renderPart(ctx, chat, p); if (node) holder.append(node); }
      scroll();
    }
    function notice(el, text) {
      el.classList.add('fd-msg-notice');
      el.querySelector('.fd-text').textContent = text;
    }

    async function start() {
      const r = await call(ctx, '/v1/assistant/conversations', { method: 'POST', body: { time_zone: ctx.timeZone } });
      if (!r.ok || !r.data || !r.data.id) return r;
      chat.id = r.data.id;
      store.set(storeKey, chat.id);
      const greeting = { ...(r.data.greeting || {}) };
      if (ctx.greeting) greeting.text = ctx.greeting;
      renderReply(message('assistant'), greeting);
      return r;
    }
    async function restore(id) {
      const r = await call(ctx, `/v1/assistant/conversations/${encodeURIComponent(id)}`);
      if (!r.ok || !r.data) return r;
      chat.id = id;
      chat.replaying = true;
      (r.data.messages || []).forEach((m, i) => {
        const role = m.role === 'visitor' ? 'visitor' : 'assistant';
        const el = message(role);
        if (role === 'visitor') el.querySelector('.fd-text').textContent = m.text;
        else renderReply(el, { text: i === 0 && ctx.greeting ? ctx.greeting : m.text, parts: Array.isArray(m.parts) ? m.parts : [] });
      });
      chat.replaying = false;
      return r;
    }
    // Starts or restores the conversation once; a failure is shown and tried again later.
    function ensure() {
      if (chat.id) return Promise.resolve({ ok: true });
      if (!chat.loaded) {
        chat.loaded = (async () => {
          const saved = store.get(storeKey);
          let r = saved ? await restore(saved) : { status: 404 };
          if (!r.ok && r.status === 404) { store.del(storeKey); r = await start(); }
          if (!r.ok) { chat.loaded = null; notice(message('assistant'), problemText(ctx, r)); }
          return r;
        })();
      }
      return chat.loaded;
    }

    async function stream(text, el) {
      const textEl = el.querySelector('.fd-text');
      const dots = h('span', { class: 'fd-typing', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'));
      textEl.replaceChildren(dots);
      const canStream = typeof ReadableStream !== 'undefined' && typeof TextDecoder !== 'undefined' && ctx.stream !== false;
      const ctrl = new AbortController();
      let idle = setTimeout(() => ctrl.abort(), 60000);
      const poke = () => { clearTimeout(idle); idle = setTimeout(() => ctrl.abort(), 60000); };
      let res;
      try {
        res = await fetch(`${ctx.api}/v1/assistant/conversations/${encodeURIComponent(chat.id)}/messages`, {
          method: 'POST', credentials: 'omit', mode: 'cors', signal: ctrl.signal,
          headers: { 'content-type': 'application/json', accept: canStream ? 'text/event-stream' : 'application/json' },
          body: JSON.stringify({ text, time_zone: ctx.timeZone }),
        });
      } catch {
        clearTimeout(idle);
        return { ok: false, status: 0, offline: true };
      }
      const type = res.headers.get('content-type') || '';
      try {
        if (!res.ok || !type.includes('text/event-stream') || !res.body) {
          const raw = await res.text();
          let data = null;
          try { data = raw ? JSON.parse(raw) : null; } catch { data = null; }
          if (!res.ok) return { ok: false, status: res.status, data, retryAfter: res.status === 429 ? retryAfter(res) : 0 };
          if (!data) return { ok: false, status: 502 };
          renderReply(el, data);
          emit('reply', data);
          return { ok: true, reply: data };
        }
        // Server-Sent Events over fetch: token, restart, then reply or error.
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = ''; let event = 'message'; let data = []; let streamed = ''; let outcome = null;
        const dispatch = () => {
          if (!data.length) { event = 'message'; return; }
          let payload = null;
          try { payload = JSON.parse(data.join('\n')); } catch { payload = null; }
          const name = event; event = 'message'; data = [];
          if (name === 'token' && payload && typeof payload.text === 'string') {
            streamed += payload.text;
            textEl.textContent = streamed;
            emit('token', { text: payload.text, so_far: streamed });
            scroll();
          } else if (name === 'restart') {
            streamed = ''; textEl.replaceChildren(dots);
            emit('restart', {});
          } else if (name === 'reply' && payload) {
            renderReply(el, payload);
            emit('reply', payload);
            outcome = { ok: true, reply: payload };
          } else if (name === 'error') {
            outcome = { ok: false, status: (payload && payload.status) || 500, data: payload, streamError: true };
          }
        };
        for (;;) {
          const { value, done } = await reader.read();
          poke();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          const lines = buffer.split(/\r\n|\r|\n/);
          buffer = lines.pop();
          for (const line of lines) {
            if (line === '') dispatch();
            else if (line.startsWith(':')) continue;
            else {
              const i = line.indexOf(':');
              const f = i < 0 ? line : line.slice(0, i);
              let v = i < 0 ? '' : line.slice(i + 1);
              if (v.startsWith(' ')) v = v.slice(1);
              if (f === 'event') event = v; else if (f === 'data') data.push(v);
            }
          }
          if (outcome) { reader.cancel().catch(() => {}); break; }
        }
        if (!outcome && buffer === '' && data.length) dispatch();
        return outcome || { ok: false, status: 0, cut: true };
      } catch {
        return { ok: false, status: 0, cut: true };
      } finally {
        clearTimeout(idle);
      }
    }

    async function send(text) {
      if (chat.sending || !text.trim()) return;
      chat.sending = true; sendBtn.disabled = true;
      input.value = '';
      message('visitor', text);
      const el = message('assistant');
      log.setAttribute('aria-busy', 'true');
      try {
        let r = await ensure();
        if (!chat.id) { el.remove(); input.value = text; return; }
        r = await stream(text, el);
        if (!r.ok && r.status === 404 && !r.streamError) {
          // The conversation expired: a new one, and the message again.
          store.del(storeKey); chat.id = null; chat.loaded = null;
          const s = await start();
          if (s.ok) { notice(message('assistant'), T.expired); log.append(el); r = await stream(text, el); }
          else r = s;
        }
        if (!r.ok) {
          const busy = r.status === 409 && r.data && /conversation-busy$/.test(r.data.type || '');
          let msg;
          if (busy) msg = T.busy;
          else if (r.streamError) msg = (r.data && r.data.detail) || T.genericError;
          else if (r.cut) msg = T.noReply;
          else if (r.status === 422) msg = T.tooLong;
          else msg = problemText(ctx, r);
          notice(el, msg);
          if (busy || r.offline || r.status === 429 || r.status === 422 || r.cut) input.value = input.value || text;
        }
      } finally {
        log.removeAttribute('aria-busy');
        chat.sending = false; sendBtn.disabled = false;
        scroll();
      }
    }

    compose.addEventListener('submit', (e) => { e.preventDefault(); send(input.value); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(input.value); }
    });
    input.addEventListener('input', () => { input.style.height = 'auto'; input.style.height = `${Math.min(input.scrollHeight, 120)}px`; });
    root.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !panel.hidden) { e.stopPropagation(); close(); } });
    bubble.addEventListener('click', () => (panel.hidden ? open() : close()));

    function open() {
      if (!panel.hidden) return;
      panel.hidden = false;
      bubble.setAttribute('aria-expanded', 'true');
      input.focus();
      ensure();
      emit('open', {});
    }
    function close() {
      if (panel.hidden) return;
      panel.hidden = true;
      bubble.setAttribute('aria-expanded', 'false');
      bubble.focus();
      emit('close', {});
    }
    async function restart() {
      if (chat.sending) return;
      store.del(storeKey); chat.id = null; chat.loaded = null; chat.known = {};
      log.replaceChildren();
      await ensure();
      input.focus();
    }
    return { open, close, send, destroy: () => host.remove(), root };
  }

  // ---------------------------------------------------------------- pieces on the page
  function loading(ctx) { return h('p', { class: 'fd-muted', role: 'status' }, ctx.texts.loading); }
  function failedBox(ctx, r, again) {
    return h('div', { class: 'fd-alert', role: 'alert' }, h('p', null, r && r.status === 429 ? problemText(ctx, r) : ctx.texts.loadFailed),
      again ? h('button', { type: 'button', class: 'fd-btn fd-btn-ghost', onclick: again }, ctx.texts.retry) : null);
  }
  const heading = (el, fallback) => (el.getAttribute('data-title') === '' ? null : el.getAttribute('data-title') || fallback);

  async function mountConsultation(ctx, el, root) {
    const opts = await serviceOptions(ctx);
    const f = consultationForm(ctx, { title: heading(el, ctx.texts.consultationTitle), heading: 'h2', service: el.getAttribute('data-service'), serviceOptions: opts });
    root.replaceChildren(h('div', { class: 'fd-piece' }, f.form));
  }
  async function mountPlan(ctx, el, root) {
    const opts = await serviceOptions(ctx);
    const pre = el.getAttribute('data-service');
    const f = planForm(ctx, { title: heading(el, ctx.texts.planTitle), heading: 'h2', serviceOptions: opts, prefill: { services: pre ? [pre] : [] }, submit: ctx.texts.quoteSubmit });
    root.replaceChildren(h('div', { class: 'fd-piece' }, f.form));
  }
  function mountNewsletter(ctx, el, root) {
    const T = ctx.texts;
    const f = apiForm(ctx, {
      path: '/v1/newsletter/subscriptions', title: heading(el, T.newsletterTitle), heading: 'h2', submit: T.newsletterSubmit, idempotent: false, honeypot: false,
      fields: [{ name: 'email', label: T.email, type: 'email', required: true, autocomplete: 'email' }, { name: 'consent', label: T.consentNewsletter, type: 'checkbox', required: true }],
      body: (v) => ({ ...v, ...consentVersion(ctx) }),
      done: () => { emit('subscribed', {}); return h('div', null, h('p', null, T.newsletterDone)); },
    });
    root.replaceChildren(h('div', { class: 'fd-piece' }, f.form));
  }

  // Y-M-D arithmetic on calendar dates (no zone involved).
  const today = (tz) => { try { return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date()); } catch { return new Date().toISOString().slice(0, 10); } };
  const addDays = (ymd, n) => { const d = new Date(`${ymd}T12:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };
  const dayLabel = (ctx, ymd, short) => new Intl.DateTimeFormat(ctx.locale, short ? { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' } : { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date(`${ymd}T12:00:00Z`));

  async function mountBooking(ctx, el, root) {
    const T = ctx.texts;
    const tz = ctx.timeZone;
    const days = Math.min(14, Math.max(1, Number(el.getAttribute('data-days')) || 7));
    root.replaceChildren(loading(ctx));
    const r = await call(ctx, '/v1/call-types');
    if (!r.ok) { root.replaceChildren(failedBox(ctx, r, () => mountBooking(ctx, el, root))); return; }
    const types = items(r);
    const wanted = el.getAttribute('data-call-type');
    const shown = wanted ? types.filter((t) => t.slug === wanted) : types;
    const title = heading(el, T.bookingTitle);
    const wrap = h('div', { class: 'fd-piece' }, title ? h('h2', null, title) : null);
    root.replaceChildren(wrap);
    if (!shown.length) { wrap.append(h('p', null, T.noCallTypes)); return; }
    let current = shown[0];
    let from = today(tz);
    const first = from;
    const group = nextId('calls');
    if (shown.length > 1) {
      wrap.append(h('fieldset', { class: 'fd-field' }, h('legend', null, T.chooseCall), h('div', { class: 'fd-calls' }, shown.map((t, i) => {
        const id = nextId('call');
        const radio = h('input', { type: 'radio', name: group, id, value: t.slug, checked: i === 0, onchange: () => { current = t; from = first; load(); } });
        return h('label', { class: 'fd-call', for: id }, radio, h('span', null, h('strong', null, t.name), h('span', { class: 'fd-muted' }, `${fill(T.minutes, { n: t.duration_minutes })} · ${t.description || ''}`)));
      }))));
    } else {
      wrap.append(h('p', null, h('strong', null, current.name), ` · ${fill(T.minutes, { n: current.duration_minutes })}`, current.description ? h('br') : null, current.description ? h('span', { class: 'fd-muted' }, current.description) : null));
    }
    const range = h('span', { class: 'fd-range', 'aria-live': 'polite' });
    const earlier = h('button', { type: 'button', class: 'fd-btn fd-btn-ghost', onclick: () => { from = addDays(from, -days); if (from < first) from = first; load(); } }, `← ${T.earlier}`);
    const later = h('button', { type: 'button', class: 'fd-btn fd-btn-ghost', onclick: () => { from = addDays(from, days); load(); } }, `${T.later} →`);
    const list = h('div', { class: 'fd-days' });
    const formHolder = h('div');
    wrap.append(h('p', { class: 'fd-muted' }, fill(T.timesIn, { zone: tz })), h('div', { class: 'fd-nav' }, earlier, range, later), list, formHolder);
    let seq = 0;
    async function load() {
      const mine = ++seq;
      const to = addDays(from, days - 1);
      range.textContent = fill(T.weekOf, { from: dayLabel(ctx, from), to: dayLabel(ctx, to) });
      earlier.disabled = from <= first;
      later.disabled = addDays(from, days) > addDays(first, current.horizon_days || 30);
      formHolder.replaceChildren();
      list.replaceChildren(loading(ctx));
      const q = new URLSearchParams({ from, to, tz });
      const s = await call(ctx, `/v1/call-types/${encodeURIComponent(current.slug)}/slots?${q}`);
      if (mine !== seq) return;
      if (!s.ok) { list.replaceChildren(failedBox(ctx, s, load)); return; }
      const slots = (s.data && s.data.slots) || [];
      if (!slots.length) { list.replaceChildren(h('p', null, T.noSlots)); return; }
      const byDay = new Map();
      for (const slot of slots) { const d = slot.start.slice(0, 10); if (!byDay.has(d)) byDay.set(d, []); byDay.get(d).push(slot); }
      // First a day, then a time of that day.
      const chips = [];
      const dayBox = h('div', { class: 'fd-day' });
      const showDay = (d, chip) => {
        chips.forEach((c) => c.setAttribute('aria-pressed', String(c === chip)));
        formHolder.replaceChildren();
        const hid = nextId('day');
        const times = byDay.get(d).map((slot) => {
          const b = h('button', { type: 'button', class: 'fd-slot', 'aria-pressed': 'false', 'data-start': slot.start }, when(ctx, slot.start_utc, tz, { hour: '2-digit', minute: '2-digit' }));
          b.addEventListener('click', () => {
            times.forEach((x) => x.setAttribute('aria-pressed', String(x === b)));
            const form = bookingForm(ctx, {
              callType: current.slug, callName: current.name, details: current, start: slot.start, startUtc: slot.start_utc, timeZone: tz,
              onTaken: () => { b.disabled = true; },
              onDone: () => { list.replaceChildren(); wrap.querySelectorAll('.fd-nav button, .fd-calls input').forEach((x) => { x.disabled = true; }); formHolder.append(h('button', { type: 'button', class: 'fd-btn fd-btn-ghost', onclick: () => mountBooking(ctx, el, root) }, T.bookAnother)); },
              onCancel: () => { formHolder.replaceChildren(); b.setAttribute('aria-pressed', 'false'); b.focus(); },
            });
            formHolder.replaceChildren(form);
            const input = form.querySelector('input'); if (input) input.focus();
          });
          return b;
        });
        dayBox.replaceChildren(h('h3', { id: hid }, dayLabel(ctx, d)), h('div', { class: 'fd-slots', role: 'group', 'aria-labelledby': hid }, times));
      };
      for (const [d, ss] of byDay) {
        const chip = h('button', { type: 'button', class: 'fd-chip', 'aria-pressed': 'false' },
          h('span', null, dayLabel(ctx, d, true)), h('span', { class: 'fd-muted' }, fill(T.times, { n: ss.length })));
        chip.addEventListener('click', () => showDay(d, chip));
        chips.push(chip);
      }
      list.replaceChildren(h('div', { class: 'fd-chips', role: 'group', 'aria-label': T.chooseDay }, chips), dayBox);
      showDay(byDay.keys().next().value, chips[0]);
    }
    load();
  }

  function shareUrl(network, url, title) {
    const u = encodeURIComponent(url); const t = encodeURIComponent(title || '');
    return {
      x: `https://x.com/intent/post?url=${u}&text=${t}`,
      linkedin: `https://www.linkedin.com/sharing/share-offsite/?url=${u}`,
      facebook: `https://www.facebook.com/sharer/sharer.php?u=${u}`,
      reddit: `https://www.reddit.com/submit?url=${u}&title=${t}`,
      hacker_news: `https://news.ycombinator.com/submitlink?u=${u}&t=${t}`,
      email: `mailto:?subject=${t}&body=${u}`,
    }[network];
  }
  async function mountShares(ctx, el, root) {
    const T = ctx.texts;
    const slug = el.getAttribute('data-post');
    if (!slug) return;
    const r = await call(ctx, `/v1/posts/${encodeURIComponent(slug)}`);
    const counts = (r.ok && r.data && r.data.shares && r.data.shares.counts) || {};
    const title = el.getAttribute('data-share-title') || (r.data && r.data.title) || document.title;
    const url = el.getAttribute('data-url') || location.href;
    const wanted = (el.getAttribute('data-networks') || '').split(',').map((s) => s.trim()).filter((n) => NETWORKS.includes(n));
    const status = h('p', { class: 'fd-status fd-muted', role: 'status' });
    const countText = (n) => (n === 1 ? T.oneShare : fill(T.shares, { count: n }));
    const buttons = (wanted.length ? wanted : NETWORKS).map((network) => {
      const name = T.networks[network] || network;
      let n = Number(counts[network]) || 0;
      const count = h('span', { class: 'fd-count', 'aria-hidden': 'true' }, String(n));
      const sr = h('span', { class: 'fd-sr' }, `, ${countText(n)}`);
      const b = h('button', { type: 'button', class: 'fd-share', 'data-network': network },
        h('span', null, network === 'copy_link' || network === 'email' ? name : fill(T.shareOn, { network: name })), sr, count);
      b.addEventListener('click', async () => {
        if (network === 'copy_link') {
          try { await navigator.clipboard.writeText(url); status.textContent = T.copied; } catch { status.textContent = url; }
        } else {
          const target = shareUrl(network, url, title);
          if (network === 'email') location.href = target; else window.open(target, '_blank', 'noopener,width=640,height=560');
        }
        const s = await call(ctx, `/v1/posts/${encodeURIComponent(slug)}/shares`, { method: 'POST', body: { network } });
        if (s.ok) { n += 1; count.textContent = String(n); sr.textContent = `, ${countText(n)}`; emit('share', { post: slug, network }); }
      });
      return b;
    });
    const label = heading(el, T.share);
    const gid = nextId('share');
    root.replaceChildren(h('div', { class: 'fd-piece' }, h('div', { class: 'fd-shares', role: 'group', 'aria-labelledby': label ? gid : null, 'aria-label': label ? null : T.share },
      label ? h('strong', { id: gid }, label) : null, buttons), status));
  }

  const MOUNTS = { booking: mountBooking, consultation: mountConsultation, plan: mountPlan, newsletter: mountNewsletter, shares: mountShares };

  // ---------------------------------------------------------------- set-up
  let state = null;
  function fromScript() {
    const d = (script && script.dataset) || {};
    const o = {};
    if (d.api) o.api = d.api;
    if (d.parts) o.parts = d.parts.split(',').map((s) => s.trim()).filter(Boolean);
    if (d.accent) o.accent = d.accent;
    if (d.greeting) o.greeting = d.greeting;
    if (d.locale) o.locale = d.locale;
    if (d.timeZone) o.timeZone = d.timeZone;
    if (d.postUrl || d.serviceUrl) o.links = { post: d.postUrl, service: d.serviceUrl };
    if (d.consentVersion) o.consentTextVersion = d.consentVersion;
    return o;
  }
  function defaultApi() {
    try { return new URL(script.src).origin; } catch { return location.origin; }
  }
  function merge(base, extra) {
    const out = { ...base };
    for (const [k, v] of Object.entries(extra || {})) {
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof v !== 'function' && base[k] && typeof base[k] === 'object') out[k] = merge(base[k], v);
      else if (v !== undefined) out[k] = v;
    }
    return out;
  }
  function context(options) {
    const o = merge(merge({}, fromScript()), options || {});
    let zone = o.timeZone;
    if (!zone) { try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { zone = 'UTC'; } }
    const links = { post: '/blog/{slug}', service: '/services/{slug}' };
    for (const k of ['post', 'service']) if (o.links && o.links[k]) links[k] = o.links[k];
    return {
      api: String(o.api || defaultApi()).replace(/\/+$/, ''),
      parts: new Set((o.parts && o.parts.length ? o.parts : PARTS).filter((p) => PARTS.includes(p))),
      colours: palette(o.accent),
      greeting: o.greeting || null,
      texts: merge(TEXTS, o.texts),
      links,
      locale: o.locale || undefined,
      timeZone: zone || 'UTC',
      consentTextVersion: o.consentTextVersion || null,
      stream: o.stream,
    };
  }
  function mountOne(el) {
    if (!state || state.mounted.has(el)) return;
    const kind = el.getAttribute('data-frontdesk');
    const fn = MOUNTS[kind];
    if (!fn || !state.ctx.parts.has(kind)) return;
    state.mounted.add(el);
    let root = el.shadowRoot;
    if (!root) { try { root = el.attachShadow({ mode: 'open' }); } catch { return; } }
    root.replaceChildren();
    style(root); applyColours(el, state.ctx);
    const body = h('div');
    root.append(body);
    Promise.resolve(fn(state.ctx, el, body)).catch(() => body.replaceChildren(failedBox(state.ctx, null)));
  }
  function mount(scope) {
    const base = scope || document;
    if (base.matches && base.matches('[data-frontdesk]')) mountOne(base);
    if (base.querySelectorAll) base.querySelectorAll('[data-frontdesk]').forEach(mountOne);
  }
  function destroy() {
    if (!state) return;
    if (state.observer) state.observer.disconnect();
    if (state.chat) state.chat.destroy();
    for (const el of state.mounted) if (el.shadowRoot) el.shadowRoot.replaceChildren();
    state = null;
  }
  function init(options) {
    destroy();
    const ctx = context(options);
    state = { ctx, mounted: new Set(), chat: null, observer: null };
    const go = () => {
      if (!state || state.ctx !== ctx) return;
      if (ctx.parts.has('assistant')) state.chat = createChat(ctx);
      mount(document);
      state.observer = new MutationObserver((records) => {
        for (const rec of records) for (const n of rec.addedNodes) if (n.nodeType === 1) mount(n);
      });
      state.observer.observe(document.documentElement, { childList: true, subtree: true });
    };
    if (document.body) go(); else document.addEventListener('DOMContentLoaded', go, { once: true });
    return api;
  }
  const api = {
    version: '1.0.0',
    texts: TEXTS,
    init,
    mount: (scope) => { mount(scope); return api; },
    destroy,
    open: () => state && state.chat && state.chat.open(),
    close: () => state && state.chat && state.chat.close(),
    send: (text) => state && state.chat && (state.chat.open(), state.chat.send(text)),
  };
  window.Frontdesk = api;
  const manual = script && script.dataset && script.dataset.autoInit === 'false';
  if (!manual) init(window.FrontdeskSettings || {});
})();
