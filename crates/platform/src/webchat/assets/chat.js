// The customer chat page. Plain script, no build step, no inline code (the
// page's CSP allows only this file). Customer and agent text is always put
// in with textContent, never as HTML.
//
// Flow: ask who we are (GET /chat/api/session); a new visitor gets a
// session with the first message or photo. Then one EventSource
// (/chat/api/events) brings a snapshot and every new message; the page
// tells the platform which agent replies it showed (POST /chat/api/seen).
// A message is sent with the page's own id for it, so "resend" after a
// lost answer never stores it twice.
'use strict';

(function () {
  const MAX_CHARS = 10000;
  const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

  const TEXT = {
    zh: {
      idle: '在线客服',
      connecting: '正在连接…',
      open: '已连接，客服会尽快回复您',
      down: '网络断了，正在重新连接…',
      welcome: '您好！请问有什么可以帮您？留言后客服会尽快回复您。',
      nameLabel: '您的称呼（选填）',
      bodyLabel: '消息',
      placeholder: '请输入消息…',
      photo: '照片',
      photoRemove: '不发了',
      photoUploading: '照片上传中…',
      photoReady: '照片已选好，点“发送”发出',
      send: '发送',
      close: '关闭',
      me: '我',
      agent: '客服',
      sending: '发送中…',
      failed: '没发出去',
      resend: '重发',
      received: '已送达',
      read: '已读',
      photoAlt: '照片',
      count: '{n}/{max} 字',
      errRate: '您发得太快了，请稍等 {s} 秒再发。',
      errTooLong: '消息太长了（最多 {max} 字），请分几条发送。',
      errNetwork: '网络不太好，消息没发出去，请稍后点“重发”。',
      errSession: '聊天已过期，请刷新页面后再发。',
      errQueue: '这个客服页面已经停用了。',
      errServer: '客服系统暂时出了点问题，请稍后再试。',
      errInvalid: '这条消息发不出去，请修改后再试。',
      errNameTooLong: '称呼太长了，请写短一点（最多 100 个字）。',
      errPhotoEmpty: '这个文件是空的，请重新选一张照片。',
      errPhotoTooBig: '照片太大了，请选 5 MB 以内的照片。',
      errPhotoType: '这个文件不是照片，只能发 JPG、PNG 或 WebP 格式的图片。',
      errPhotoBroken: '这张照片已损坏，打不开，请换一张。',
      errPhotoPixels: '照片尺寸太大了（超过 4000 万像素），请先缩小再发。',
      errPhotoNetwork: '网络不太好，照片没传上去，请重新选择。',
      errPhotoOff: '这里暂时不能发照片。',
    },
    en: {
      idle: 'Customer service',
      connecting: 'Connecting…',
      open: 'Connected. We will reply as soon as we can.',
      down: 'Connection lost, reconnecting…',
      welcome: 'Hello! How can we help? Leave a message and we will reply soon.',
      nameLabel: 'Your name (optional)',
      bodyLabel: 'Message',
      placeholder: 'Type a message…',
      photo: 'Photo',
      photoRemove: 'Remove',
      photoUploading: 'Uploading the photo…',
      photoReady: 'Photo ready: press Send',
      send: 'Send',
      close: 'Close',
      me: 'Me',
      agent: 'Service',
      sending: 'Sending…',
      failed: 'Not sent',
      resend: 'Resend',
      received: 'Delivered',
      read: 'Read',
      photoAlt: 'Photo',
      count: '{n}/{max} characters',
      errRate: 'You are sending too fast. Please wait {s} seconds and try again.',
      errTooLong: 'That message is too long ({max} characters at most). Please split it up.',
      errNetwork: 'The connection dropped and your message was not sent. Press “Resend” in a moment.',
      errSession: 'This chat has expired. Please reload the page.',
      errQueue: 'This chat page is no longer in use.',
      errServer: 'Something went wrong on our side. Please try again shortly.',
      errInvalid: 'This message could not be sent. Please change it and try again.',
      errNameTooLong: 'That name is too long (100 characters at most).',
      errPhotoEmpty: 'That file is empty. Please choose a photo again.',
      errPhotoTooBig: 'That photo is too large. Please choose one under 5 MB.',
      errPhotoType: 'That file is not a photo. You can send JPG, PNG or WebP images.',
      errPhotoBroken: 'That photo is damaged and cannot be opened. Please choose another.',
      errPhotoPixels: 'That photo is too large (over 40 megapixels). Please make it smaller first.',
      errPhotoNetwork: 'The connection dropped and the photo was not uploaded. Please choose it again.',
      errPhotoOff: 'Photos cannot be sent here at the moment.',
    },
  };

  const $ = (id) => document.getElementById(id);
  const queue = document.body.dataset.queue;
  const els = {
    shop: $('shop-name'),
    link: $('link-state'),
    lang: $('lang'),
    log: $('log'),
    error: $('error'),
    composer: $('composer'),
    nameRow: $('name-row'),
    name: $('name'),
    body: $('body'),
    send: $('send'),
    count: $('count'),
    photo: $('photo'),
    preview: $('photo-preview'),
    previewImg: $('photo-preview-img'),
    previewState: $('photo-preview-state'),
    photoRemove: $('photo-remove'),
    viewer: $('viewer'),
    viewerImg: $('viewer-img'),
  };

  let lang = localStorage.getItem('homedesk-chat-lang') === 'en' ? 'en' : 'zh';
  let session = null; // {name} once this browser has one
  let source = null;
  let retryDelay = 1000;
  let linkState = 'connecting';
  const messages = new Map(); // id -> message from the platform
  const outgoing = new Map(); // client_id -> {client_id, body, attachments, state}
  const confirmed = new Set(); // agent reply ids reported as shown
  let photo = null; // {state: 'uploading'|'ready', attachment, url}
  let lastError = null; // {key, vars}

  function t(key, vars) {
    let text = TEXT[lang][key] || key;
    for (const [k, v] of Object.entries(vars || {})) text = text.replace('{' + k + '}', String(v));
    return text;
  }

  function applyLanguage() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = (lang === 'zh' ? document.body.dataset.nameZh + ' · 在线客服' : document.body.dataset.nameEn + ' · Customer service');
    els.shop.textContent = lang === 'zh' ? document.body.dataset.nameZh : document.body.dataset.nameEn;
    els.lang.textContent = lang === 'zh' ? 'English' : '中文';
    els.lang.lang = lang === 'zh' ? 'en' : 'zh-CN';
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
    setLink(linkState);
    if (lastError) showError(lastError.key, lastError.vars);
    updateCount();
    updatePhotoPreview();
    render();
  }

  function setLink(state) {
    linkState = state;
    els.link.dataset.state = state;
    els.link.textContent = t(state);
  }

  function showError(key, vars) {
    lastError = { key, vars };
    els.error.dataset.code = key;
    els.error.textContent = t(key, vars);
    els.error.hidden = false;
  }

  function clearError() {
    lastError = null;
    delete els.error.dataset.code;
    els.error.textContent = '';
    els.error.hidden = true;
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // An error answer's code (and Retry-After), or null when the body is not ours.
  async function failure(response) {
    let code = null;
    try {
      code = (await response.json()).code || null;
    } catch (_) {
      code = null;
    }
    return { status: response.status, code, retryAfter: response.headers.get('Retry-After') };
  }

  function errorKey(f, what) {
    switch (f.code) {
      case 'rate_limited':
        return ['errRate', { s: f.retryAfter || 10 }];
      case 'payload_too_large':
        return ['errTooLong', { max: MAX_CHARS }];
      case 'unauthorized':
        return ['errSession'];
      case 'empty_attachment':
        return ['errPhotoEmpty'];
      case 'attachment_too_large':
        return ['errPhotoTooBig'];
      case 'unsupported_media_type':
        return what === 'photo' ? ['errPhotoType'] : ['errInvalid'];
      case 'invalid_image':
        return ['errPhotoBroken'];
      case 'image_too_many_pixels':
        return ['errPhotoPixels'];
      case 'not_found':
        return what === 'photo' ? ['errPhotoOff'] : ['errQueue'];
      case 'invalid_request':
      case 'invalid_json':
        return what === 'name' ? ['errNameTooLong'] : ['errInvalid'];
      default:
        return ['errServer'];
    }
  }

  async function postJson(path, body) {
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  // A session for this browser: the one it has, or a new one (with the
  // name typed). A photo and a message started together share one.
  let opening = null;
  function ensureSession() {
    if (session) return Promise.resolve(true);
    if (!opening) opening = openSession().finally(() => (opening = null));
    return opening;
  }

  async function openSession() {
    const name = els.name.value.trim();
    const response = await postJson('/chat/api/session', name ? { name } : {});
    if (!response.ok) {
      const [key, vars] = errorKey(await failure(response), 'name');
      showError(key, vars);
      return false;
    }
    session = await response.json();
    els.nameRow.hidden = true;
    openEvents();
    return true;
  }

  function formatTime(ms) {
    const d = new Date(ms);
    const now = new Date();
    const hm = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
    if (d.toDateString() === now.toDateString()) return hm;
    return String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0') + ' ' + hm;
  }

  function photoElement(p) {
    const button = document.createElement('button');
    button.type = 'button';
    const img = document.createElement('img');
    // A photo still on its way has only its local preview.
    img.src = p.localUrl || '/chat/api/attachments/' + encodeURIComponent(p.id) + '/thumbnail';
    img.alt = t('photoAlt');
    img.loading = 'lazy';
    img.dataset.testid = 'chat-photo-thumb';
    img.dataset.photo = p.id;
    button.append(img);
    button.addEventListener('click', () => {
      els.viewerImg.src = p.localUrl || '/chat/api/attachments/' + encodeURIComponent(p.id);
      els.viewerImg.alt = t('photoAlt');
      els.viewer.showModal();
    });
    return button;
  }

  function messageElement(m, local) {
    const item = document.createElement('div');
    item.className = 'msg ' + m.from + (local && m.state === 'failed' ? ' failed' : '');
    item.dataset.testid = 'chat-message';
    item.dataset.from = m.from;
    item.dataset.state = m.state;
    if (m.id) item.dataset.id = m.id;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = m.from === 'customer' ? t('me') : t('agent');
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.dataset.testid = 'chat-text';
    bubble.textContent = m.body;
    item.append(who, bubble);
    if (m.attachments && m.attachments.length) {
      const photos = document.createElement('div');
      photos.className = 'photos';
      for (const p of m.attachments) photos.append(photoElement(p));
      item.append(photos);
    }
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.dataset.testid = 'chat-meta';
    const time = m.sent_at ? formatTime(m.sent_at) : '';
    const label = m.from === 'customer' ? t(m.state) : '';
    meta.textContent = [time, label].filter(Boolean).join(' · ');
    if (local && m.state === 'failed') {
      const again = document.createElement('button');
      again.type = 'button';
      again.dataset.testid = 'chat-resend';
      again.textContent = t('resend');
      again.addEventListener('click', () => sendOutgoing(m.client_id));
      meta.append(again);
    }
    item.append(meta);
    return item;
  }

  // Rendered messages by key, so an update touches only what changed: the
  // log is a live region, and a screen reader should hear a new message
  // once, not the whole conversation again.
  const rendered = new Map(); // key -> {node, sig}

  function render() {
    const nearBottom = els.log.scrollHeight - els.log.scrollTop - els.log.clientHeight < 80;
    const sorted = Array.from(messages.values()).sort((a, b) => a.sent_at - b.sent_at || (a.id < b.id ? -1 : 1));
    const items = sorted.map((m) => ({ key: 'm:' + m.id, m, local: false }));
    for (const o of outgoing.values()) {
      const m = { from: 'customer', body: o.body, state: o.state, client_id: o.client_id, attachments: o.photos };
      items.push({ key: 'o:' + o.client_id, m, local: true });
    }
    let before = $('welcome');
    const keep = new Set();
    for (const item of items) {
      const sig = lang + JSON.stringify(item.m);
      let r = rendered.get(item.key);
      if (!r || r.sig !== sig) {
        const node = messageElement(item.m, item.local);
        if (r) r.node.replaceWith(node);
        r = { node, sig };
        rendered.set(item.key, r);
      }
      keep.add(item.key);
      if (before.nextSibling !== r.node) before.after(r.node);
      before = r.node;
    }
    for (const [key, r] of rendered) {
      if (!keep.has(key)) {
        r.node.remove();
        rendered.delete(key);
      }
    }
    if (nearBottom || outgoing.size) els.log.scrollTop = els.log.scrollHeight;
    confirmShown();
  }

  // Tells the platform which agent replies this page has shown (the agent's tick).
  async function confirmShown() {
    if (document.visibilityState !== 'visible') return;
    const ids = [];
    for (const m of messages.values()) {
      if (m.from === 'agent' && m.state !== 'delivered' && !confirmed.has(m.id)) ids.push(m.id);
    }
    if (!ids.length) return;
    for (const id of ids) confirmed.add(id);
    try {
      const response = await postJson('/chat/api/seen', { ids: ids.slice(0, 100) });
      if (!response.ok) throw new Error('seen ' + response.status);
    } catch (_) {
      // Try again with the next render.
      for (const id of ids) confirmed.delete(id);
    }
  }

  function openEvents() {
    if (source) source.close();
    setLink('connecting');
    source = new EventSource('/chat/api/events');
    source.addEventListener('open', () => {
      retryDelay = 1000;
      setLink('open');
    });
    source.addEventListener('snapshot', (e) => {
      const snapshot = JSON.parse(e.data);
      session = snapshot.customer;
      messages.clear();
      for (const m of snapshot.messages) messages.set(m.id, m);
      render();
    });
    source.addEventListener('message', (e) => {
      const m = JSON.parse(e.data);
      messages.set(m.id, m);
      render();
    });
    source.addEventListener('error', () => {
      setLink('down');
      // The browser retries by itself unless the answer was an error status.
      if (source.readyState === EventSource.CLOSED) {
        const wait = retryDelay;
        retryDelay = Math.min(retryDelay * 2, 30000);
        setTimeout(openEvents, wait);
      }
    });
  }

  async function sendOutgoing(clientId) {
    const o = outgoing.get(clientId);
    if (!o) return;
    o.state = 'sending';
    render();
    let response;
    try {
      if (!(await ensureSession())) {
        o.state = 'failed';
        render();
        return;
      }
      response = await postJson('/chat/api/messages', {
        queue,
        client_id: o.client_id,
        body: o.body,
        attachments: o.attachments,
      });
    } catch (_) {
      o.state = 'failed';
      showError('errNetwork');
      render();
      return;
    }
    if (response.ok) {
      const m = await response.json();
      outgoing.delete(clientId);
      messages.set(m.id, m);
      clearError();
      render();
      return;
    }
    const f = await failure(response);
    const [key, vars] = errorKey(f, 'message');
    showError(key, vars);
    if (f.status === 429 || f.status >= 500) {
      // Worth another try: keep it in the log with a resend button.
      o.state = 'failed';
    } else {
      // Refused as it is: give the text back to change it; nothing is lost.
      outgoing.delete(clientId);
      if (!els.body.value) els.body.value = o.body;
      if (o.photo && !photo) {
        photo = o.photo;
        updatePhotoPreview();
      }
      updateCount();
    }
    render();
  }

  async function submit(event) {
    event.preventDefault();
    const body = els.body.value;
    if (photo && photo.state !== 'ready') return;
    if (!body.trim() && !photo) return;
    if ([...body].length > MAX_CHARS) {
      // The platform refuses it too; saying so here spares a round trip.
      showError('errTooLong', { max: MAX_CHARS });
      return;
    }
    const o = {
      client_id: randomId(),
      body,
      attachments: photo ? [photo.attachment.id] : [],
      photos: photo ? [Object.assign({ localUrl: photo.url }, photo.attachment)] : [],
      photo,
      state: 'sending',
    };
    outgoing.set(o.client_id, o);
    els.body.value = '';
    photo = null;
    updatePhotoPreview();
    updateCount();
    await sendOutgoing(o.client_id);
  }

  // The box grows with what is typed, up to its CSS max-height, then scrolls.
  function fitBody() {
    els.body.style.height = 'auto';
    const wanted = els.body.scrollHeight + 2;
    const most = parseFloat(getComputedStyle(els.body).maxHeight) || wanted;
    els.body.style.height = Math.min(wanted, most) + 'px';
    els.body.style.overflowY = wanted > most ? 'auto' : 'hidden';
  }

  function updateCount() {
    fitBody();
    const n = [...els.body.value].length;
    els.count.hidden = n < MAX_CHARS * 0.9;
    els.count.textContent = t('count', { n, max: MAX_CHARS });
    els.count.classList.toggle('over', n > MAX_CHARS);
  }

  function updatePhotoPreview() {
    els.preview.hidden = !photo;
    if (!photo) {
      els.previewImg.removeAttribute('src');
      return;
    }
    els.previewImg.src = photo.url;
    els.previewImg.alt = t('photoAlt');
    els.preview.dataset.state = photo.state;
    els.previewState.textContent = photo.state === 'ready' ? t('photoReady') : t('photoUploading');
  }

  async function choosePhoto() {
    const file = els.photo.files && els.photo.files[0];
    els.photo.value = '';
    if (!file) return;
    clearError();
    // Too big is said here, before 5 MB cross a village link; everything
    // else about the file (empty, not a photo, damaged, too many pixels)
    // the platform judges from its bytes.
    if (file.size > MAX_PHOTO_BYTES) return showError('errPhotoTooBig');
    if (photo && photo.url) URL.revokeObjectURL(photo.url);
    photo = { state: 'uploading', attachment: null, url: URL.createObjectURL(file) };
    const mine = photo;
    updatePhotoPreview();
    let response;
    try {
      if (!(await ensureSession())) {
        photo = null;
        updatePhotoPreview();
        return;
      }
      response = await fetch('/chat/api/attachments', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: file,
      });
    } catch (_) {
      photo = null;
      updatePhotoPreview();
      return showError('errPhotoNetwork');
    }
    if (photo !== mine) return; // removed or replaced meanwhile
    if (!response.ok) {
      URL.revokeObjectURL(mine.url);
      photo = null;
      updatePhotoPreview();
      const [key, vars] = errorKey(await failure(response), 'photo');
      return showError(key, vars);
    }
    mine.attachment = await response.json();
    mine.state = 'ready';
    updatePhotoPreview();
  }

  els.lang.addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('homedesk-chat-lang', lang);
    applyLanguage();
  });
  els.composer.addEventListener('submit', submit);
  els.body.addEventListener('input', updateCount);
  els.body.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      els.composer.requestSubmit();
    }
  });
  els.photo.addEventListener('change', choosePhoto);
  els.photoRemove.addEventListener('click', () => {
    if (photo && photo.url) URL.revokeObjectURL(photo.url);
    photo = null;
    updatePhotoPreview();
  });
  document.addEventListener('visibilitychange', confirmShown);

  async function start() {
    applyLanguage();
    try {
      const response = await fetch('/chat/api/session', { credentials: 'same-origin' });
      if (response.ok) {
        session = await response.json();
        els.nameRow.hidden = true;
        openEvents();
        return;
      }
    } catch (_) {
      // No connection yet: the first send will try again.
    }
    setLink('idle');
  }

  start();
})();
