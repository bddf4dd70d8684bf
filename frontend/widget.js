/* Brand expert chat widget: <script src="https://HOST/static/widget.js" async></script>
   Protocol: docs/protocol.md (widget socket). User text only ever goes in as text nodes.
   One self-contained file on other sites: its socket is its own, not frontend/live.js.
   About 870 lines in one file on purpose: a shop page loads it with one request and
   its CSS lives inside it (shadow DOM); `python -m bench` weighs it (budget 15 KB gzip). */
(() => {
  'use strict';
  if (window.BrandExpertWidget) return; // embedded twice: the first copy wins

  // The server is wherever this script came from, not the host page.
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  const BASE = new URL(script ? script.src : '/', location.href).origin;
  const WS_URL = BASE.replace(/^http/, 'ws') + '/ws/widget/';
  const TOKEN_KEY = 'bx.visitor', OPEN_KEY = 'bx.open';
  const TOKEN_REFUSED = 4410; // close code: docs/protocol.md

  // Storage can throw (blocked cookies, sandboxes): then we just forget.
  const store = (area, key, value) => {
    try {
      const s = window[area];
      if (value === undefined) return s.getItem(key);
      value === null ? s.removeItem(key) : s.setItem(key, value);
    } catch (e) { /* unavailable */ }
    return null;
  };

  let S = {}, maxLen = 4000, visitor = null, experts = 1, queue = null, rating = 0;
  // Versions of what is shown (docs/protocol.md): frames that arrive late are older and
  // ignored; pings carry them and the server answers an older one with a snapshot.
  let availVer = -1, queueVer = -1;
  let token = store('localStorage', TOKEN_KEY);
  let conv = null;            // snapshot of the chat on screen
  let floorId = 0;            // chats below this id were left behind by "start a new chat"
  const lastSeq = {};         // conversation id -> highest seq shown, for `resume`
  let shown = new Set(), expertSeqs = [];
  const pending = new Map();  // client_id -> {id, conv, body, el}: not acked yet
  let maxOther = 0, readSent = 0, deliveredSent = 0, expertRead = 0;
  let followUps = [], offlineTo = null;
  let isOpen = store('sessionStorage', OPEN_KEY) === '1';
  let ws = null, connected = false, attempt = 0, retryTimer = 0, pingTimer = 0, retryAfter = 0, expertAway = false;
  let typingOut = false, typingTimer = 0, typingInTimer = 0, stick = true;

  const h = (tag, props = {}, ...kids) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'tid') el.dataset.testid = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    el.append(...kids.filter((kid) => kid != null)); // strings become text nodes: never HTML
    return el;
  };
  // Icons are constant markup from this file, never user data.
  const I = {
    chat: 'M21 11.5a8.5 8.5 0 0 1-12.3 7.6L3 21l1.9-5.7A8.5 8.5 0 1 1 21 11.5z',
    down: 'M6 9l6 6 6-6',
    send: 'M22 2L11 13M22 2l-7 20-4-9-9-4z',
    dl: 'M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M7 10l5 5 5-5M12 15V3',
    mail: 'M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zM22 6l-10 7L2 6',
    check: 'M20 6L9 17l-5-5',
    star: 'M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5-4.8-4.6 6.6-.9z',
    pic: 'M4 4h16v16H4zM4 16l5-5 5 5 2-2 4 4',
  };
  const svg = (d, cls = '') => {
    const t = document.createElement('template');
    t.innerHTML = `<svg class="${cls}" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${d}"/></svg>`;
    return t.content.firstChild;
  };
  const fill = (text, vars) => String(text || '').replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const firstName = (name) => String(name || '').split(/\s+/)[0];
  // As Expert.initials on the server: first letters of the first two words.
  const initials = (name) => String(name || '?').trim().split(/\s+/).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
  // In the customer's own time zone, in the widget's language: "Tuesday 1 December at 10:00".
  const localWhen = (iso, lang) => new Intl.DateTimeFormat(lang || undefined,
    { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
  const clock = (iso) => new Date(iso || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  // Optional fields are left out of a frame when empty.
  const put = (frame, key, input) => { const v = input.value.trim(); if (v) frame[key] = v; return frame; };
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : Date.now().toString(36) + Math.random().toString(36).slice(2)); // randomUUID needs https
  const REF = store('localStorage', 'bx.ref') || uuid(); // public, unlike the token
  store('localStorage', 'bx.ref', REF);
  const noteOpen = () => isOpen && send({ type: 'widget.open', ref: REF });
  const dots = () => h('span', { class: 'dots', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'));
  const field = (label, control, hint) => h('label', { class: 'f' }, h('span', { text: label }), control,
    hint && h('small', { text: hint }));
  const btn = (cls, tid, text, onclick, ...kids) => h('button', { class: cls, type: 'button', tid, text, onclick }, ...kids);
  // The server rejects a@b, which browsers accept: require a dot in the domain.
  const EMAIL = { type: 'email', maxlength: 254, autocomplete: 'email', pattern: '[^@\\s]+@[^@\\s]+\\.[^@\\s]+' };
  const errBox = (tid) => h('p', { class: 'err', role: 'alert', tid, hidden: true });

  // Inside the shadow root, so host-page CSS cannot reach in.
  const CSS = `
:host{all:initial}
[hidden]{display:none!important}
.w{--a:#0e6470;--ad:#0a4a55;--al:#e3f1f2;--tx:#10232b;--mu:#5b6b75;--ln:#e1e7eb;--sf:#f4f6f8;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--tx)}
:where(.w *){box-sizing:border-box;margin:0;padding:0;font:inherit;color:inherit}
button{cursor:pointer;border:0;background:none}
:focus-visible{outline:2px solid var(--a);outline-offset:2px}
svg{width:20px;height:20px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;flex:none}
.ln{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;background:var(--a);color:#fff;display:grid;place-items:center;box-shadow:0 6px 20px rgba(8,40,48,.32);transition:transform .2s,background .2s}
.ln:hover{background:var(--ad);transform:scale(1.06)}
.ln svg{width:28px;height:28px}
.ln .x,.open .ln .ic{display:none}.open .ln .x{display:block}
.bdg{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#e5484d;color:#fff;font-size:12px;font-weight:700;line-height:18px;text-align:center;border:2px solid #fff}
.pn{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:384px;height:min(660px,calc(100vh - 112px));background:#fff;border-radius:18px;overflow:hidden;display:flex;flex-direction:column;box-shadow:0 18px 50px rgba(8,30,40,.25);animation:pop .2s ease-out;transform-origin:bottom right}
@keyframes pop{from{opacity:0;transform:translateY(10px) scale(.98)}}
.hd{display:flex;align-items:center;gap:8px;padding:14px 6px 14px 14px;background:linear-gradient(135deg,var(--a),var(--ad));color:#fff;flex:none}
.hd :focus-visible{outline-color:#fff}
.ht{flex:1;min-width:0}
.ht h2{font-size:16px;font-weight:700;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.ht p{font-size:13px;opacity:.85}
.hb{display:flex;align-items:center;gap:2px}
.ib{width:36px;height:36px;border-radius:50%;display:grid;place-items:center;color:#fff}
.endb{height:32px;padding:0 8px;border-radius:16px;background:rgba(255,255,255,.16);color:#fff;font-size:13px;font-weight:600}
.ib:hover,.endb:hover{background:rgba(255,255,255,.26)}
.av{flex:none;width:30px;height:30px;border-radius:50%;display:grid;place-items:center;background:var(--al);color:var(--a);font-size:11px;font-weight:700;position:relative}
.hd .av{width:40px;height:40px;font-size:14px;background:rgba(255,255,255,.2);color:#fff}
.hd .av.on::after{content:"";position:absolute;right:0;bottom:0;width:10px;height:10px;border-radius:50%;background:#3ccf7a;border:2px solid var(--a)}
.bn{flex:none;padding:6px 12px;background:#fff6db;color:#7a5200;font-size:12px;font-weight:600;text-align:center}
.bd{flex:1;min-height:0;display:flex;flex-direction:column}
.v{flex:1;min-height:0;overflow-y:auto;padding:20px;display:flex;flex-direction:column;gap:14px}
.v h3{font-size:17px;font-weight:700}
.lead{color:var(--mu)}
.f{display:grid;gap:6px;font-size:13px;font-weight:600}
.f small{font-weight:400;color:var(--mu);font-size:12px}
input,textarea{width:100%;padding:10px 12px;border:1px solid #cbd5dc;border-radius:10px;background:#fff;font-size:14px;font-weight:400;resize:none}
input:focus,textarea:focus{outline:0;border-color:var(--a);box-shadow:0 0 0 3px rgba(14,100,112,.18)}
.w [aria-invalid=true]{border-color:#d92d20}
.btn{display:inline-flex;align-items:center;justify-content:center;gap:8px;height:44px;padding:0 18px;border-radius:10px;background:var(--a);color:#fff;font-weight:600;transition:background .15s}
.btn:hover{background:var(--ad)}
.btn:disabled{opacity:.5;cursor:default;background:var(--a)}
.full{width:100%}
.gh{background:#fff;color:var(--a);border:1px solid var(--ln)}
.gh:hover{background:var(--sf)}
.lk{color:var(--a);font-weight:600;text-decoration:underline;text-underline-offset:2px;justify-self:start;font-size:13px}
.err{padding:8px 10px;border-radius:8px;background:#fef3f2;border:1px solid #fecdca;color:#b42318;font-size:13px}
.note{color:var(--mu);font-size:13px}
.dots{display:inline-flex;gap:3px;align-items:center}
.dots i{width:6px;height:6px;border-radius:50%;background:currentColor;animation:bl 1.2s infinite both}
.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}
@keyframes bl{0%,80%,100%{opacity:.25}40%{opacity:1}}
.fus{flex:none;max-height:45%;overflow-y:auto;display:grid;gap:8px;padding:12px;border-bottom:1px solid var(--ln)}
.fu{display:grid;gap:8px;padding:12px 14px;border-radius:12px;background:#fffaeb;border:1px solid #f7d98b}
.fuh{display:flex;gap:10px;align-items:center}
.fuh div{display:grid}.fuh strong{font-weight:700}
.fuh small{color:var(--mu);font-size:12px}
.fu p{white-space:pre-wrap;overflow-wrap:anywhere}
.fua{display:flex;gap:16px;align-items:center}.sm{height:32px;padding:0 12px;font-size:13px}
.chat{padding:0;gap:0;background:var(--sf);overflow:hidden}
.q{flex:none;display:grid;gap:4px;margin:12px 12px 0;padding:14px 16px;border-radius:12px;background:#fff;border:1px solid var(--ln)}
.qh{display:flex;gap:10px;align-items:center;color:var(--a)}
.qh strong{color:var(--tx);font-weight:700}
.pos{font-weight:600}
.wt{color:var(--mu);font-size:13px}
.list{flex:1;min-height:0;overflow-y:auto;padding:16px 14px;display:flex;flex-direction:column;gap:8px;outline:0}
.msg{display:flex;gap:8px;align-items:flex-end;max-width:86%;animation:pop .15s ease-out}
.msg .av{margin-bottom:20px}
.msg.customer{align-self:flex-end;flex-direction:row-reverse}
.msg.system{align-self:center;max-width:92%}
.sys{font-size:12px;color:var(--mu);text-align:center;white-space:pre-wrap}
.col{display:flex;flex-direction:column;min-width:0}
.customer .col{align-items:flex-end}
.who{font-size:12px;color:var(--mu);margin:0 0 3px 4px}
.b{padding:9px 13px;border-radius:16px 16px 16px 4px;background:#fff;border:1px solid var(--ln);white-space:pre-wrap;overflow-wrap:anywhere}
.customer .b{background:var(--a);border-color:var(--a);color:#fff;border-radius:16px 16px 4px 16px}
.failed .b{opacity:.55}
.pc{display:grid;gap:3px;width:210px;padding:8px;border:1px solid var(--ln);border-radius:14px;background:#fff;color:var(--tx);text-decoration:none}
.pc img{width:100%;aspect-ratio:4/3;object-fit:cover;border-radius:9px;background:var(--sf)}.pc b{color:var(--a)}.pc:hover b{text-decoration:underline}
.ph{width:auto}.ph img{width:auto;max-width:100%;height:160px;aspect-ratio:auto}
.rm .b{background:none;border:1px dashed var(--ln);color:var(--mu);font-style:italic}
.meta{font-size:11px;color:var(--mu);margin:3px 4px 0}
.tk{margin-left:4px;font-weight:700}
.tk[data-status=read]{color:var(--a)}.tk[data-status=failed]{color:#b42318}
.typing{flex:none;display:flex;gap:8px;align-items:center;padding:0 16px 8px;color:var(--mu);font-size:12px}
.comp{flex:none;display:grid;gap:6px;padding:10px 12px calc(10px + env(safe-area-inset-bottom));background:#fff;border-top:1px solid var(--ln)}
.row{display:flex;gap:8px;align-items:flex-end}
.comp textarea{min-height:44px;max-height:120px;border-radius:12px}
.send{width:44px;padding:0;border-radius:50%;flex:none}
.end{flex:none;display:grid;gap:12px;padding:16px 20px calc(16px + env(safe-area-inset-bottom));background:#fff;border-top:1px solid var(--ln);text-align:center;max-height:75%;overflow-y:auto}
.rate,.more{display:grid;gap:10px}
.rt{font-weight:700;font-size:15px}
.stars{display:flex;justify-content:center}
.star{padding:2px 3px;color:#cfd8de;border-radius:6px}
.star svg{width:32px;height:32px;fill:currentColor;stroke:none}
.stars:hover .star,.star.on{color:#f5a524}
.stars .star:hover~.star{color:#cfd8de}
.thanks{font-weight:700;color:var(--a)}
.acts{display:flex;flex-wrap:wrap;gap:4px 18px;justify-content:center}
.acts .lk{display:inline-flex;gap:6px;align-items:center;text-decoration:none}.acts .lk:hover{text-decoration:underline}
.acts svg{width:16px;height:16px}
.done{align-items:center;justify-content:center;text-align:center}
.ok{width:56px;height:56px;border-radius:50%;display:grid;place-items:center;background:var(--al);color:var(--a)}
.ok svg{width:28px;height:28px}
@media (max-width:480px){.pn{inset:0;width:auto;height:auto;border-radius:0;animation:none}.open .ln{display:none}input,textarea{font-size:16px}}
.rp{border:0;background:none;color:#6b7280;font:inherit;font-size:11px;cursor:pointer;padding:0 0 0 8px}.rp:disabled{cursor:default}
@media (prefers-reduced-motion:reduce){.w *{animation:none!important;transition:none!important}}`;

  let root, wrap, launcher, badgeEl, panel, ui = null;

  function init() {
    const host = h('brand-expert-widget');
    // Inline style beats host-page rules that would hide or move the host.
    host.style.cssText = 'all:initial;position:fixed;z-index:2147483000';
    root = host.attachShadow({ mode: 'open' });
    badgeEl = h('span', { class: 'bdg', tid: 'launcher-badge', 'aria-hidden': 'true', hidden: true });
    // No strings before `welcome`: the launcher is just the icon.
    launcher = h('button', { class: 'ln', type: 'button', tid: 'launcher', 'aria-label': 'Chat',
      'aria-expanded': 'false', onclick: () => toggle(!isOpen, true) },
    svg(I.chat, 'ic'), svg(I.down, 'x'), badgeEl);
    panel = h('div', { class: 'pn', role: 'dialog', tid: 'panel', hidden: true,
      onkeydown: (e) => e.key === 'Escape' && toggle(false, true) },
    h('div', { class: 'v done', 'aria-busy': 'true' }, dots()));
    wrap = h('div', { class: 'w' }, panel, launcher);
    // A constructed sheet is not inline style: hosts with a strict CSP need no 'unsafe-inline'.
    if (root.adoptedStyleSheets) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else root.append(h('style', { text: CSS }));
    root.append(wrap);
    document.body.append(host);
    if (isOpen) toggle(true);
    document.addEventListener('visibilitychange', () => { markRead(); seeFollowUps(); });
    connect();
  }

  function toggle(open, byUser) {
    isOpen = open;
    store('sessionStorage', OPEN_KEY, open ? '1' : null);
    wrap.classList.toggle('open', open);
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    if (open) {
      stick = true;
      scrollDown();
      markRead();
      seeFollowUps();
      noteOpen();
      if (byUser) focusFirst();
    } else if (byUser) launcher.focus();
    badge();
  }

  // Focus moves into the panel, but no keyboard pops up on touch screens.
  function focusFirst() {
    if (!ui || !matchMedia('(pointer:fine)').matches) return;
    const first = [...panel.querySelectorAll('input,textarea')].find((el) => el.offsetParent);
    if (first) first.focus();
  }

  // Connection
  const send = (frame) => {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  };

  function connect() {
    clearTimeout(retryTimer);
    try { ws = new WebSocket(WS_URL); } catch (e) { retry(); return; }
    const sock = ws;
    sock.onopen = () => send({ type: 'hello', token, lang: (navigator.language || 'en').slice(0, 16) });
    sock.onmessage = (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      if (frame && handlers[frame.type]) handlers[frame.type](frame);
    };
    sock.onclose = (e) => {
      if (sock !== ws) return;
      connected = false;
      clearInterval(pingTimer);
      if (e.code === TOKEN_REFUSED) { startAfresh(); return; }
      banner();
      retry();
    };
  }

  // The visitor token expired or was revoked (the customer's data was erased): forget
  // it and everything shown under it, and connect again at once as a new visitor.
  function startAfresh() {
    saveToken(null);
    visitor = null;
    followUps = [];
    pending.clear();
    if (ui) { renderFollowUps(); newChat(); }
    connect();
  }

  function retry() {
    // 1 s doubling to 30 s; jitter so widgets don't all reconnect at once.
    const delay = Math.max(retryAfter, Math.min(30000, 1000 * 2 ** attempt) * (0.75 + Math.random() * 0.5));
    retryAfter = 0; // the server said when (rate_limited)
    attempt = Math.min(attempt + 1, 6);
    retryTimer = setTimeout(connect, delay);
  }

  const banner = () => { if (ui) ui.banner.hidden = connected; };

  function saveToken(value) {
    token = value || null;
    store('localStorage', TOKEN_KEY, token);
  }

  const isCur = (id) => conv && conv.id === id;

  // Frames from the server
  const handlers = {
    welcome(f) {
      connected = true;
      attempt = 0;
      saveToken(f.token); // renewed on every visit; null until the visitor exists
      S = f.strings || S;
      maxLen = f.max_message_length || maxLen;
      visitor = f.visitor;
      handlers.availability({ experts_on_shift: f.experts_on_shift, version: f.availability_version });
      if (!ui) build();
      noteOpen();
      ui.banner.textContent = S.reconnecting;
      ui.offNext.textContent = f.next_expert_at ? fill(S.next_expert, { when: localWhen(f.next_expert_at, f.language) }) : '';
      (f.follow_ups || []).forEach(addFollowUp);
      const c = f.conversation;
      if (c && c.id >= floorId && (!conv || c.id >= conv.id) && !older(c)) setConv(c);
      if (conv) send({ type: 'resume', conversation: conv.id, last_seq: lastSeq[conv.id] || 0 });
      // Unacked messages go again; the server stores each client_id once.
      for (const p of pending.values()) if (isCur(p.conv)) sendPending(p);
      clearInterval(pingTimer);
      pingTimer = setInterval(() => send({
        type: 'ping', availability_version: availVer, queue_version: queueVer,
        conversation: conv ? conv.id : undefined, conversation_version: conv ? conv.version : undefined,
      }), 20000);
      banner();
      route();
    },
    identity(f) { saveToken(f.token); },
    availability(f) {
      if (f.version < availVer) return;
      availVer = f.version;
      experts = f.experts_on_shift;
      route();
    },
    conversation(f) {
      const c = f.conversation;
      if (c.id < floorId || (conv && c.id < conv.id) || older(c)) return;
      setConv(c);
      route();
      notePage();
    },
    history(f) {
      if (!isCur(f.conversation)) return;
      f.messages.forEach(addMessage);
      afterMessages();
    },
    message(f) { handlers.history({ conversation: f.conversation, messages: [f.message] }); },
    'message.reported'(f) {
      const b = isCur(f.conversation) && ui.list.querySelector(`[data-seq="${f.seq}"] .rp`);
      if (b) b.textContent = S.reported;
    },
    'message.hidden'(f) { // staff moderation: the words go, a placeholder stays
      const el = isCur(f.conversation) && ui.list.querySelector(`[data-seq="${f.seq}"]`);
      if (el) el.replaceWith(removed(f.seq, el.dataset.sender));
    },
    'message.ack'(f) {
      const p = pending.get(f.client_id);
      if (!p) return;
      clearTimeout(p.retry);
      pending.delete(f.client_id);
      if (!isCur(f.conversation)) return;
      if (shown.has(f.seq)) p.el.remove(); // already on screen from history
      else { place(p.el, f.seq); noteSeq(f.seq); }
      ticks();
    },
    queue(f) {
      // One counter for the whole queue, moved after each change: equal is not newer.
      if (!isCur(f.conversation) || f.version <= queueVer) return;
      queueVer = f.version;
      queue = f;
      renderQueue();
    },
    typing(f) { if (isCur(f.conversation) && f.who === 'expert') showTyping(f.active); },
    receipt(f) {
      if (!isCur(f.conversation) || f.reader !== 'expert' || f.status !== 'read') return;
      expertRead = Math.max(expertRead, f.seq);
      ticks();
    },
    followup(f) { addFollowUp(f.follow_up); },
    'followup.dismissed'(f) { dropFollowUp(f.follow_up); },
    'apply.invite'(f) { if (isCur(f.conversation)) ui.apply.href = BASE + '/apply/?invite=' + encodeURIComponent(f.invite); },
    'expert.presence'(f) { if (isCur(f.conversation)) { expertAway = !f.online; route(); } },
    'transcript.sent'(f) {
      note(fill(f.confirmation_needed ? S.transcript_confirm : S.transcript_sent, { email: f.email }));
    },
    'offline.sent'() {
      offlineTo = ui.offEmail.value.trim();
      ui.offForm.reset();
      route();
    },
    error(f) { showError(f); },
  };

  const older = (c) => conv && conv.id === c.id && c.version < conv.version;

  function setConv(c) {
    const ex = (x) => x && x.expert && x.expert.id;
    if (!conv || ex(conv) !== ex(c)) expertAway = false; // another expert is online by definition
    if (!conv || conv.id !== c.id) { // another chat: fresh message list
      ui.list.replaceChildren();
      shown = new Set();
      expertSeqs = [];
      maxOther = deliveredSent = expertRead = readSent = rating = 0;
      queue = null;
      ui.rateForm.reset();
      pickStar(0);
      showTyping(false);
    }
    conv = c;
    expertRead = Math.max(expertRead, c.expert_read_seq || 0);
    readSent = Math.max(readSent, c.customer_read_seq || 0);
    if (c.status !== 'waiting') queue = null;
  }

  // Messages
  function removed(seq, sender) {
    const el = h('div', { class: 'msg rm ' + (sender === 'customer' ? 'customer' : 'expert'), tid: 'message', 'data-sender': sender, 'data-seq': seq });
    el.append(h('p', { class: 'b', tid: 'message-removed', text: S.message_removed }));
    return el;
  }

  // A product card an expert shared; its link names the chat for the shop (bx_chat).
  const web = (u) => (/^https?:\/\//.test(u || '') ? u : null);
  function card(c) {
    let price = c.price;
    try { price = new Intl.NumberFormat(navigator.language || 'en', { style: 'currency', currency: c.currency || 'EUR' }).format(+c.price); } catch (e) { /* shown as sent */ }
    return h('a', { class: 'pc', tid: 'product-card', href: web(c.url), target: '_blank', rel: 'noopener' },
      web(c.image) ? h('img', { src: web(c.image), alt: '', loading: 'lazy' }) : null,
      h('b', { text: c.name }), h('span', { text: price }));
  }

  const photo = (p) => h('a', { class: 'pc ph', tid: 'photo', href: BASE + p.url, target: '_blank' },
    h('img', { src: BASE + p.thumbnail, alt: S.photo, onload: scrollDown }));
  const pick = () => import(new URL('widget-photo.js', script.src)).then((m) => m.upload({ token, conv, ui, S }),
    () => showError({ message: S.photo_failed }));

  function bubble(m) {
    if (m.hidden) return removed(m.seq, m.sender);
    // A team member who took the chat over is shown like an expert.
    const side = m.sender === 'staff' ? 'expert' : m.sender;
    const el = h('div', { class: 'msg ' + side, tid: 'message', 'data-sender': m.sender });
    if (m.sender === 'system') {
      el.append(h('p', { class: 'sys', tid: 'message-body', text: m.body }));
      return el;
    }
    const expert = side === 'expert';
    if (expert) el.append(h('span', { class: 'av', 'aria-hidden': 'true', text: initials(m.author) }));
    el.append(h('div', { class: 'col' },
      expert ? h('span', { class: 'who', text: m.author || S.expert_role }) : null,
      m.card ? card(m.card) : m.photo ? photo(m.photo) : h('p', { class: 'b', tid: 'message-body', text: m.body }),
      h('span', { class: 'meta' }, clock(m.at), expert
        ? btn('rp', 'report-message', S.report, (e) => {
          e.target.disabled = true;
          send({ type: 'message.report', conversation: conv.id, seq: m.seq });
        })
        : h('span', { class: 'tk', tid: 'message-status' }))));
    return el;
  }

  // The list stays in seq order; unacked bubbles (no seq yet) stay at the bottom.
  function place(el, seq) {
    el.dataset.seq = seq;
    const next = [...ui.list.children].find((c) => !c.dataset.seq || +c.dataset.seq > seq);
    ui.list.insertBefore(el, next || null);
  }

  function noteSeq(seq) {
    shown.add(seq);
    lastSeq[conv.id] = Math.max(lastSeq[conv.id] || 0, seq);
  }

  function addMessage(m) {
    if (shown.has(m.seq)) return; // our own message, acked first, or a replay
    let el = null;
    if (m.sender === 'customer') {
      // Our own message relayed before its ack: adopt the optimistic bubble.
      const p = [...pending.values()].find((x) => x.conv === conv.id && x.body === m.body);
      if (p) { pending.delete(p.id); el = p.el; }
    } else {
      maxOther = Math.max(maxOther, m.seq);
      if (m.sender === 'expert') { expertSeqs.push(m.seq); showTyping(false); }
    }
    place(el || bubble(m), m.seq);
    noteSeq(m.seq);
  }

  function afterMessages() {
    scrollDown();
    const lastExpert = Math.max(0, ...expertSeqs);
    if (lastExpert > deliveredSent && send({ type: 'receipt', conversation: conv.id, seq: lastExpert, status: 'delivered' })) {
      deliveredSent = lastExpert;
    }
    markRead();
    ticks();
    badge();
  }

  function markRead() {
    if (!conv || !isOpen || document.hidden || maxOther <= readSent) return;
    if (send({ type: 'receipt', conversation: conv.id, seq: maxOther, status: 'read' })) readSent = maxOther;
    badge();
  }

  // ✓ stored on the server, ✓✓ read by the expert.
  function ticks() {
    for (const el of ui.list.querySelectorAll('.msg.customer')) {
      const tk = el.querySelector('.tk');
      const seq = +el.dataset.seq || 0;
      const st = el.classList.contains('failed') ? 'failed' : !seq ? 'sending' : seq <= expertRead ? 'read' : 'sent';
      if (tk.dataset.status === st) continue;
      tk.dataset.status = st;
      tk.textContent = { failed: S.not_sent, sending: S.sending, sent: '✓', read: '✓✓' }[st];
      tk.title = st === 'read' ? S.read : st === 'sent' ? S.sent : '';
    }
  }

  const sendPending = (p) => send({ type: 'message.send', conversation: p.conv, body: p.body, client_id: p.id });

  function scrollDown() { if (ui && stick) ui.list.scrollTop = ui.list.scrollHeight; }

  function sendMessage() {
    if (!conv || !checkLength()) return;
    const body = ui.composer.value.trim();
    const p = { id: uuid(), conv: conv.id, body, el: bubble({ sender: 'customer', body }) };
    pending.set(p.id, p);
    ui.list.append(p.el);
    sendPending(p); // else sent on reconnect
    ui.composer.value = '';
    grow();
    checkLength();
    stopTyping();
    stick = true;
    scrollDown();
    ticks();
  }

  function checkLength() {
    const { composer, compErr, sendBtn } = ui;
    const n = [...composer.value.trim()].length; // code points, as the server counts
    const over = n > maxLen;
    compErr.hidden = !over;
    if (over) compErr.textContent = fill(S.too_long, { count: n, max: maxLen });
    composer.setAttribute('aria-invalid', String(over));
    sendBtn.disabled = over || !n;
    return n > 0 && !over;
  }

  function grow() {
    const c = ui.composer;
    c.style.height = 'auto';
    c.style.height = Math.min(c.scrollHeight + 2, 120) + 'px';
  }

  // Typing: one `true` when typing starts, one `false` after 3 s idle or on send.
  function onComposerInput() {
    checkLength();
    grow();
    if (!conv) return;
    if (!typingOut && ui.composer.value.trim()) {
      typingOut = send({ type: 'typing', conversation: conv.id, active: true });
    }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  }

  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingOut && conv) send({ type: 'typing', conversation: conv.id, active: false });
    typingOut = false;
  }

  function showTyping(on) {
    clearTimeout(typingInTimer);
    ui.typing.hidden = !on;
    if (!on) return;
    const who = conv.expert || conv.staff;
    ui.typingText.textContent = fill(S.typing, { name: firstName(who ? who.name : S.expert_role) });
    typingInTimer = setTimeout(() => showTyping(false), 30000); // in case `false` never comes
    scrollDown();
  }

  // Actions
  function startChat(e) {
    e.preventDefault();
    clearErrors();
    const frame = put(put(put({ type: 'chat.start' }, 'topic', ui.topicIn), 'name', ui.nameIn), 'email', ui.emailIn);
    if (frame.topic && send(frame)) {
      busy(true);
      if (frame.email) visitor = { name: frame.name || '', email: frame.email };
    }
  }

  const busy = (on) => { ui.startBtn.disabled = on; };
  const leave = () => conv && send({ type: 'chat.leave', conversation: conv.id });

  function pickStar(n) {
    rating = n;
    ui.stars.forEach((s, i) => {
      s.classList.toggle('on', i < n);
      s.setAttribute('aria-pressed', String(i + 1 === n));
    });
    ui.rateMore.hidden = !n;
  }

  function rate(e) {
    e.preventDefault();
    clearErrors();
    if (rating && conv) send(put({ type: 'chat.rate', conversation: conv.id, rating }, 'comment', ui.rateComment));
  }

  async function download() {
    clearErrors();
    try {
      const res = await fetch(`${BASE}/widget/transcript/${conv.id}/`, { headers: { 'X-Visitor-Token': token || '' } });
      if (!res.ok) throw new Error(res.status);
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { href: url, download: `chat-${conv.id}.txt`, hidden: true });
      root.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      showError({ message: S.transcript_failed, ref: 'transcript' });
    }
  }

  function emailTranscript() {
    clearErrors();
    if (conv) send({ type: 'transcript.email', conversation: conv.id });
  }

  function newChat() {
    floorId = conv ? conv.id + 1 : floorId;
    conv = null;
    queue = null;
    ui.list.replaceChildren();
    route();
  }

  function sendOffline(e) {
    e.preventDefault();
    clearErrors();
    const frame = put(put(put({ type: 'offline.send' }, 'name', ui.offName), 'email', ui.offEmail), 'body', ui.offBody);
    if (frame.email && frame.body) send(frame);
  }

  const note = (text) => { ui.endNote.textContent = text; ui.endNote.hidden = false; };

  function clearErrors() {
    for (const el of [ui.preErr, ui.offErr, ui.compErr, ui.endErr, ui.endNote]) el.hidden = true;
  }

  function showError(f) {
    const ref = f.ref || '';
    if (f.retry_after) retryAfter = f.retry_after * 1000;
    if (ref === 'connect') { if (ui) ui.banner.textContent = f.message; return; } // closing; retried later
    if ((ref === 'hello' || ref === 'resume') && f.code === 'unavailable') { // the store hiccupped
      const sock = ws;
      setTimeout(() => { if (ws === sock && sock.readyState === 1) sock.onopen(); }, 2000);
      return;
    }
    if (ref === 'hello' && token) { saveToken(null); ws.onopen(); return; } // unusable token: greet as new
    if (!ui) return;
    if (['typing', 'receipt', 'followup.seen', 'followup.dismiss', 'apply.invite', 'page.view'].includes(ref)) return; // nothing the user can act on
    if (ref === 'resume' && f.code === 'not_found') { newChat(); return; } // no longer ours
    if (ref === 'resume' && f.code === 'seq_ahead' && conv) { lastSeq[conv.id] = 0; send({ type: 'resume', conversation: conv.id, last_seq: 0 }); return; }
    if (ref === 'message.send') {
      const p = pending.get(f.client_id) || [...pending.values()].find((x) => isCur(x.conv) && !x.retry);
      if (p && f.code === 'unavailable' && (p.tries = (p.tries || 0) + 1) <= 5) {
        // The store hiccupped: again in 1, 2, 4, 8, 16 s (its client_id makes that safe).
        p.retry = setTimeout(() => { p.retry = 0; sendPending(p); }, 500 * 2 ** p.tries);
        return;
      }
      if (p) { pending.delete(p.id); p.el.classList.add('failed'); ticks(); }
    }
    if (ref === 'chat.start') busy(false);
    if (['no_email', 'already_sent', 'confirmation_pending'].includes(f.code)) { note(f.message); return; }
    const box = { 'chat.start': ui.preErr, 'offline.send': ui.offErr, 'chat.rate': ui.endErr,
      'transcript.email': ui.endErr, transcript: ui.endErr }[ref] || currentErrorBox();
    box.textContent = f.message;
    box.hidden = false;
  }

  function currentErrorBox() {
    if (!ui.views.pre.hidden) return ui.preErr;
    if (!ui.views.off.hidden) return ui.offErr;
    return ui.endPanel.hidden ? ui.compErr : ui.endErr;
  }

  // Follow-ups
  function addFollowUp(fu) {
    const known = followUps.find((x) => x.id === fu.id);
    if (known) Object.assign(known, fu); // e.g. the reply to `followup.helpful`
    else followUps.unshift(fu); // seen or not, it stays until the customer dismisses it
    renderFollowUps();
    seeFollowUps();
    badge();
  }

  function renderFollowUps() {
    ui.fus.replaceChildren(...followUps.map((fu) => h('article', { class: 'fu', tid: 'followup-card' },
      h('div', { class: 'fuh' }, h('span', { class: 'av', 'aria-hidden': 'true', text: initials(fu.expert) }),
        h('div', {}, h('strong', { text: fill(S.followup_title, { name: fu.expert }) }),
          h('small', { text: fill(S.followup_about, { topic: fu.topic }) }))),
      h('p', { tid: 'followup-body', text: fu.body }),
      h('div', { class: 'fua' }, fu.helpful
        ? h('span', { class: 'note', tid: 'followup-thanked', text: fill(S.followup_thanks, { name: firstName(fu.expert) }) })
        : btn('btn gh sm', 'followup-helpful', S.followup_helpful, () => send({ type: 'followup.helpful', follow_up: fu.id })),
      btn('lk', 'followup-dismiss', S.dismiss, () => { send({ type: 'followup.dismiss', follow_up: fu.id }); dropFollowUp(fu.id); })))));
    ui.fus.hidden = !followUps.length;
  }

  function dropFollowUp(id) {
    followUps = followUps.filter((x) => x.id !== id);
    renderFollowUps();
    badge();
  }

  // A follow-up counts as seen once its card was on screen.
  function seeFollowUps() {
    if (!ui || !isOpen || document.hidden) return;
    for (const fu of followUps) if (!fu.seen && !fu.told) fu.told = send({ type: 'followup.seen', follow_up: fu.id });
    badge();
  }

  function badge() {
    const n = followUps.filter((fu) => !fu.seen && !fu.told).length + expertSeqs.filter((s) => s > readSent).length;
    badgeEl.hidden = !n;
    badgeEl.textContent = n > 9 ? '9+' : String(n);
    if (ui) launcher.setAttribute('aria-label', n ? `${S.open} (${n})` : S.open);
  }

  // Views
  function route() {
    if (!ui) return;
    const st = conv && conv.status;
    const live = st === 'waiting' || (st === 'active' && !conv.customer_left);
    const view = conv ? 'chat' : offlineTo != null ? 'sent' : experts > 0 ? 'pre' : 'off';
    for (const [name, el] of Object.entries(ui.views)) el.hidden = name !== view;
    const focused = root.activeElement;
    if (view !== ui.view && isOpen && !(focused && focused.offsetParent)) focusFirst(); // focus was in a hidden view
    ui.view = view;

    const ex = conv && (conv.expert || conv.staff); // a team member who took it over
    ui.hAv.hidden = !ex;
    ui.hAv.classList.toggle('on', live && !expertAway);
    ui.hAv.textContent = ex ? ex.initials : '';
    ui.hTitle.textContent = ex ? ex.name : S.title;
    ui.hSub.textContent = ex ? (live && expertAway ? S.expert_away : S.expert_role) : S.subtitle;
    ui.endBtn.hidden = !(st === 'active' && !conv.customer_left);

    if (view === 'pre') busy(false);
    if (visitor) { // prefill what the visitor told us before
      ui.nameIn.value ||= visitor.name || '';
      ui.emailIn.value ||= visitor.email || '';
      ui.offEmail.value ||= visitor.email || '';
    }
    if (view === 'sent') ui.sentText.textContent = fill(S.offline_sent, { email: offlineTo });
    if (view !== 'chat') return;

    ui.topicIn.value = ''; // the question is now message 1
    ui.queueCard.hidden = st !== 'waiting';
    renderQueue();
    ui.compForm.hidden = !live;
    ui.composer.placeholder = st === 'waiting' ? S.waiting_placeholder : S.composer_placeholder;
    ui.endPanel.hidden = live;
    if (!live) {
      stopTyping();
      showTyping(false);
      ui.endText.textContent = st === 'abandoned' ? S.left_queue : S.ended;
      ui.rateForm.hidden = !(ex && conv.rating == null);
      ui.rateTitle.textContent = fill(S.rate_title, { name: firstName(ex && ex.name) });
      ui.thanks.hidden = conv.rating == null;
      ui.apply.hidden = !(conv.rating >= 4); // a happy customer may become an expert
      // The form fills in the name and email given in this chat (apply.invite).
      if (!ui.apply.hidden && ui.apply.dataset.chat !== String(conv.id) &&
        send({ type: 'apply.invite', conversation: conv.id })) ui.apply.dataset.chat = String(conv.id);
      ui.newBtn.classList.toggle('gh', !ui.rateForm.hidden); // rating first, then the next chat
      ui.emailBtn.hidden = !(visitor && visitor.email);
    }
    scrollDown();
  }

  function renderQueue() {
    const q = queue;
    ui.qPos.textContent = q ? fill(S.queue_position, { position: q.position }) : '';
    ui.qWait.textContent = !q ? '' : q.estimated_wait_seconds < 0 ? S.wait_unknown
      : fill(S.wait_estimate, { minutes: Math.max(1, Math.round(q.estimated_wait_seconds / 60)) });
  }

  function build() {
    const u = {};
    u.hAv = h('span', { class: 'av', 'aria-hidden': 'true', tid: 'expert-avatar', hidden: true });
    u.hTitle = h('h2', { tid: 'panel-title' });
    u.hSub = h('p', { tid: 'panel-subtitle' });
    u.endBtn = btn('endb', 'end-button', S.end_chat, leave);
    const close = btn('ib', 'close-button', null, () => toggle(false, true), svg(I.down));
    close.setAttribute('aria-label', S.close);
    u.banner = h('div', { class: 'bn', role: 'status', tid: 'reconnecting', text: S.reconnecting, hidden: true });
    u.fus = h('div', { class: 'fus', tid: 'followups', hidden: true });

    // (1) Pre-chat form
    u.topicIn = h('textarea', { rows: 3, required: true, maxlength: 200, tid: 'topic-input', placeholder: S.topic_placeholder });
    u.nameIn = h('input', { maxlength: 80, autocomplete: 'name', tid: 'name-input' });
    u.emailIn = h('input', { ...EMAIL, tid: 'email-input' });
    u.startBtn = h('button', { class: 'btn full', type: 'submit', tid: 'start-button', text: S.start });
    u.preErr = errBox('prechat-error');
    const pre = h('form', { class: 'v', tid: 'prechat-form', onsubmit: startChat },
      h('p', { class: 'lead', text: S.intro }),
      field(S.topic_label, u.topicIn), field(S.name_label, u.nameIn), field(S.email_label, u.emailIn, S.email_hint),
      u.preErr, u.startBtn);

    // (5) Offline form and its confirmation
    u.offName = h('input', { maxlength: 80, autocomplete: 'name', tid: 'offline-name' });
    u.offEmail = h('input', { ...EMAIL, required: true, tid: 'offline-email' });
    u.offBody = h('textarea', { rows: 4, required: true, maxlength: maxLen, tid: 'offline-message' });
    u.offErr = errBox('offline-error');
    u.offForm = h('form', { class: 'v', tid: 'offline-form', onsubmit: sendOffline },
      h('h3', { text: S.offline_title }), h('p', { class: 'lead', text: S.offline_intro }),
      u.offNext = h('p', { class: 'lead', tid: 'offline-next' }),
      field(S.name_label, u.offName), field(S.offline_email, u.offEmail), field(S.offline_message, u.offBody),
      u.offErr, h('button', { class: 'btn full', type: 'submit', tid: 'offline-send', text: S.offline_send }));
    u.sentText = h('p', { tid: 'offline-sent', role: 'status' });
    const sent = h('div', { class: 'v done' }, h('span', { class: 'ok' }, svg(I.check)), u.sentText,
      btn('btn gh', 'offline-again', S.offline_again, () => { offlineTo = null; route(); }));

    // (2)+(3) Waiting and live chat share the message list
    u.qPos = h('p', { class: 'pos', tid: 'queue-position', 'aria-live': 'polite' });
    u.qWait = h('p', { class: 'wt', tid: 'queue-wait' });
    u.queueCard = h('div', { class: 'q', tid: 'queue-card' },
      h('div', { class: 'qh' }, dots(), h('strong', { text: S.queue_title })), u.qPos, u.qWait,
      btn('lk', 'leave-queue', S.leave_queue, leave));
    u.list = h('div', { class: 'list', role: 'log', 'aria-live': 'polite', 'aria-label': S.message_list,
      tabindex: 0, tid: 'message-list' });
    u.list.addEventListener('scroll', () => {
      const l = u.list;
      stick = l.scrollHeight - l.scrollTop - l.clientHeight < 60; // follow only when at the bottom
    });
    // A phone's keyboard opening, a turned phone or a resized window shrinks the list:
    // the newest messages stay in sight.
    new ResizeObserver(scrollDown).observe(u.list);
    u.typingText = h('span');
    u.typing = h('div', { class: 'typing', tid: 'typing-indicator', hidden: true }, dots(), u.typingText);
    u.composer = h('textarea', { rows: 1, tid: 'composer', 'aria-label': S.composer_label, placeholder: S.composer_placeholder,
      oninput: onComposerInput,
      onkeydown: (e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); } } });
    u.sendBtn = h('button', { class: 'btn send', type: 'submit', tid: 'send-button', 'aria-label': S.send, disabled: true }, svg(I.send));
    u.compErr = errBox('composer-error');
    u.compForm = h('form', { class: 'comp', onsubmit: (e) => { e.preventDefault(); sendMessage(); } },
      u.compErr, h('div', { class: 'row' }, h('button', { class: 'btn gh send', type: 'button', tid: 'attach', 'aria-label': S.attach, onclick: () => u.file.click() }, svg(I.pic)),
        u.file = h('input', { type: 'file', accept: 'image/*', hidden: true, onchange: pick }), u.composer, u.sendBtn));

    // (4) After the chat: rating, transcript, new chat
    u.endText = h('p', { class: 'note', tid: 'end-status' });
    u.stars = [1, 2, 3, 4, 5].map((n) => {
      const star = btn('star', `rating-star-${n}`, null, () => pickStar(n), svg(I.star));
      star.setAttribute('aria-label', fill(S.rate_star, { n }));
      return star;
    });
    u.rateTitle = h('p', { class: 'rt', id: 'rt' });
    u.rateComment = h('textarea', { rows: 2, maxlength: 1000, tid: 'rating-comment', placeholder: S.rate_comment, 'aria-label': S.rate_comment });
    u.rateMore = h('div', { class: 'more', hidden: true }, u.rateComment,
      h('button', { class: 'btn', type: 'submit', tid: 'rating-submit', text: S.rate_submit }));
    u.rateForm = h('form', { class: 'rate', tid: 'rating', onsubmit: rate }, u.rateTitle,
      h('div', { class: 'stars', role: 'group', 'aria-labelledby': 'rt' }, ...u.stars), u.rateMore);
    u.thanks = h('p', { class: 'thanks', tid: 'rating-thanks', role: 'status', text: S.rate_thanks });
    u.apply = h('a', { class: 'lk', tid: 'apply-link', href: BASE + '/apply/', target: '_blank', rel: 'noopener', text: S.become_expert, hidden: true });
    u.emailBtn = btn('lk', 'transcript-email', null, emailTranscript, svg(I.mail), S.transcript_email);
    u.newBtn = btn('btn full', 'new-chat', S.new_chat, newChat);
    u.endNote = h('p', { class: 'note', role: 'status', tid: 'end-note', hidden: true });
    u.endErr = errBox('end-error');
    u.endPanel = h('div', { class: 'end', tid: 'end-panel', hidden: true }, u.endText, u.rateForm, u.thanks, u.apply,
      h('div', { class: 'acts' }, btn('lk', 'transcript-download', null, download, svg(I.dl), S.transcript_download), u.emailBtn),
      u.endNote, u.endErr, u.newBtn);
    const chat = h('section', { class: 'v chat', tid: 'chat' }, u.queueCard, u.list, u.typing, u.compForm, u.endPanel);

    u.views = { pre, off: u.offForm, sent, chat };
    panel.setAttribute('aria-label', S.title);
    panel.replaceChildren(
      h('header', { class: 'hd' }, u.hAv, h('div', { class: 'ht' }, u.hTitle, u.hSub), h('div', { class: 'hb' }, u.endBtn, close)),
      u.banner,
      h('div', { class: 'bd' }, u.fus, pre, u.offForm, sent, chat));
    ui = u;
    badge();
  }

  // The page the shopper is on, for the expert: only while a chat is open, and only
  // the URL, the title and a product the shop names (docs/protocol.md, page.view).
  let product = (script && script.dataset.productSku) || '', pageSent = '';
  function notePage() {
    if (!conv || !['waiting', 'active'].includes(conv.status)) return;
    const url = (location.href.length > 500 ? location.origin + location.pathname : location.href).slice(0, 500);
    const page = { url, title: document.title.slice(0, 200), product };
    const key = [conv.id, url, page.title, product].join('\n');
    if (key !== pageSent && send({ type: 'page.view', conversation: conv.id, ...page })) pageSent = key;
  }
  addEventListener('popstate', notePage);
  addEventListener('hashchange', notePage);

  window.BrandExpertWidget = window.BrandChat = {
    open: () => toggle(true, true),
    close: () => toggle(false, true),
    setProduct: (sku) => { product = String(sku || '').slice(0, 64); notePage(); },
    attribution: () => ({ ref: REF, chat: conv && conv.id }),
  };
  if (document.body) init();
  else document.addEventListener('DOMContentLoaded', init);
})();
