/* The widget's photo upload, imported by widget.js only when a shopper picks a photo,
   so the widget's first load stays small. The photo goes to POST /widget/photos/ with
   the visitor token in a header (never a cookie: this runs on the shop's origin); the
   server re-encodes it and it comes back on the socket as a message like any other,
   which replaces the "sending" bubble shown meanwhile (docs/protocol.md, "Photos"). */
const BASE = new URL(import.meta.url).origin;

const el = (tag, className, props = {}) => Object.assign(document.createElement(tag), { className }, props);

const clientId = () => (crypto.randomUUID ? crypto.randomUUID() // randomUUID needs https
  : Date.now().toString(36) + Math.random().toString(36).slice(2));

export async function upload({ token, conv, ui, S }) {
  const file = ui.file.files[0];
  ui.file.value = ''; // picking the same photo again is a new upload
  if (!file || !conv) return;
  ui.compErr.hidden = true;
  // Shown at once, at the bottom like an unsent message; the picture when the browser
  // can show it (not HEIC, mostly), else its alt text says what is happening.
  const preview = URL.createObjectURL(file);
  const sending = el('div', 'msg customer');
  sending.dataset.testid = 'photo-sending';
  const picture = el('span', 'pc ph');
  picture.append(el('img', '', { src: preview, alt: S.photo_sending }));
  const tick = el('span', 'tk', { textContent: S.sending }); // as widget.js's ticks() words it
  tick.dataset.status = 'sending';
  const meta = el('span', 'meta');
  meta.append(tick);
  const column = el('div', 'col');
  column.append(picture, meta);
  sending.append(column);
  ui.list.append(sending);
  ui.list.scrollTop = ui.list.scrollHeight;

  const form = new FormData();
  form.append('conversation', conv.id);
  form.append('client_id', clientId());
  form.append('photo', file);
  let problem = null;
  try {
    const answer = await fetch(BASE + '/widget/photos/', {
      method: 'POST', headers: { 'X-Visitor-Token': token || '' }, body: form,
    });
    if (!answer.ok) {
      const refusal = await answer.json().catch(() => null);
      problem = (refusal && refusal.error && refusal.error.message) || S.photo_failed;
    }
  } catch (e) {
    problem = S.photo_failed; // offline, or the connection dropped mid-upload
  }
  sending.remove();
  URL.revokeObjectURL(preview);
  if (problem) {
    ui.compErr.textContent = problem;
    ui.compErr.hidden = false;
  }
}
