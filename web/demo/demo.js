// The firm's article page, rebuilt from frontdesk's public API only, with the widget.
// ?api=URL picks the API (default: this page's origin, as when the binary serves /demo/);
// ?post=slug picks the article (default: the newest); ?widget=URL loads widget.js from
// elsewhere (development only; default: {api}/widget.js).
// API data is set as text everywhere, except the post's `html`, which the API sanitizes.
(() => {
  'use strict';
  const params = new URLSearchParams(location.search);
  const api = (params.get('api') || location.origin).replace(/\/+$/, '');
  const widgetSrc = params.get('widget') || `${api}/widget.js`;
  const $ = (id) => document.getElementById(id);

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(9)) if (kid != null && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
    return el;
  }
  // Links to other posts keep the page's own parameters (api, widget).
  function postHref(slug) {
    const q = new URLSearchParams();
    for (const k of ['api', 'widget']) if (params.get(k)) q.set(k, params.get(k));
    q.set('post', slug);
    return `?${q}`;
  }
  // replaceChildren, with nested lists flattened and nothing for null.
  const put = (el, ...kids) => el.replaceChildren(...kids.flat(9).filter((k) => k != null && k !== false));
  const safe = (url) => { try { const u = new URL(url, location.href); return ['http:', 'https:', 'mailto:', 'tel:'].includes(u.protocol) ? u.href : null; } catch { return null; } };

  async function get(path) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 15000);
    try {
      const res = await fetch(api + path, { headers: { accept: 'application/json' }, credentials: 'omit', signal: ctrl.signal });
      if (!res.ok) { const e = new Error(`${path} answered ${res.status}`); e.status = res.status; throw e; }
      return await res.json();
    } finally { clearTimeout(timer); }
  }
  const dateText = (iso) => (iso ? new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso)) : '');

  function renderSite(site) {
    $('brand').textContent = site.firm_name;
    $('tagline').textContent = site.tagline || '';
    const a = site.postal_address;
    const tel = site.phone ? `tel:${site.phone.replace(/[^\d+]/g, '')}` : null;
    put($('contact-details'),
      h('strong', null, site.firm_name), h('br'),
      a ? [a.street, h('br'), `${a.postal_code} ${a.locality}`, a.region ? `, ${a.region}` : '', h('br'), a.country, h('br')] : null,
      h('a', { href: `mailto:${site.contact_email}` }, site.contact_email), h('br'),
      site.phone ? h('a', { href: tel }, site.phone) : null);
    $('social').replaceChildren(...(site.social_links || []).map((l) => {
      const href = safe(l.url);
      return h('li', null, href ? h('a', { href, rel: 'me noopener' }, l.network) : l.network);
    }));
  }

  function tocList(entries) {
    return h('ol', null, entries.map((e) => h('li', null, h('a', { href: `#${e.id}` }, e.text), e.children && e.children.length ? tocList(e.children) : null)));
  }

  function renderPost(post, site) {
    document.title = `${post.seo && post.seo.meta_title ? post.seo.meta_title : post.title} — ${site ? site.firm_name : 'Blog'}`;
    const meta = document.querySelector('meta[name=description]');
    if (meta && post.seo) meta.setAttribute('content', post.seo.meta_description || post.excerpt || '');
    const article = $('post');
    const authors = (post.authors || []).map((a) => a.name).join(', ');
    const body = h('div', { class: 'prose' });
    body.innerHTML = post.html; // sanitized by the API when the post was saved
    // Code blocks scroll sideways: keyboard users must reach them.
    body.querySelectorAll('pre').forEach((pre) => pre.setAttribute('tabindex', '0'));
    const cover = post.cover_image && safe(post.cover_image.url);
    put(article,
      h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('ol', null, h('li', null, h('a', { href: './' }, 'Blog')), h('li', { 'aria-current': 'page' }, post.title))),
      h('header', { class: 'post-head' },
        post.series ? h('p', { class: 'kicker' }, `${post.series.title} · part ${post.series.part ?? '?'} of ${post.series.total_parts}`) : null,
        h('h1', null, post.title),
        h('p', { class: 'byline' },
          authors ? `By ${authors}` : null, authors ? ' · ' : null,
          post.published_at ? h('time', { datetime: post.published_at }, dateText(post.published_at)) : null,
          ' · ', h('span', { id: 'reading-time' }, `${post.reading_minutes} min read`)),
        (post.tags || []).length ? h('ul', { class: 'tags', 'aria-label': 'Tags' }, post.tags.map((t) => h('li', null, t.name))) : null,
        h('div', { class: 'shares', 'data-frontdesk': 'shares', 'data-post': post.slug, 'data-title': '', 'data-url': (post.seo && post.seo.canonical_url) || location.href })),
      cover ? h('img', { class: 'cover', src: cover, alt: post.cover_image.alt || '' }) : null,
      body);
    article.removeAttribute('aria-busy');

    if ((post.toc || []).length) {
      const toc = $('toc');
      toc.append(tocList(post.toc));
      toc.hidden = false;
    }
    const s = post.series;
    if (s) {
      const box = $('series');
      box.append(
        h('h2', { id: 'series-title' }, 'Series'),
        h('p', null, h('strong', null, s.title), h('br'), `Part ${s.part ?? '?'} of ${s.total_parts}`),
        h('ul', { class: 'series-nav' },
          s.previous ? h('li', null, h('a', { href: postHref(s.previous.slug), rel: 'prev' }, `← Part ${s.previous.part}: ${s.previous.title}`)) : null,
          s.next ? h('li', null, h('a', { href: postHref(s.next.slug), rel: 'next' }, `Part ${s.next.part}: ${s.next.title} →`)) : null));
      box.hidden = false;
    }
  }

  function renderRelated(list) {
    if (!list.length) return;
    $('related-list').replaceChildren(...list.map((p) => h('li', { class: 'card' },
      h('h3', null, h('a', { href: postHref(p.slug) }, p.title)),
      h('p', null, p.excerpt),
      h('p', { class: 'muted' }, `${p.reading_minutes} min read`, p.published_at ? ` · ${dateText(p.published_at)}` : ''))));
    $('related').hidden = false;
  }

  function renderServices(list) {
    $('services-list').replaceChildren(...list.map((s) => h('li', { class: 'card', id: `service-${s.slug}` },
      h('h3', null, s.title), h('p', null, s.summary))));
  }

  function loadWidget() {
    return new Promise((resolve, reject) => {
      const tag = document.createElement('script');
      tag.src = widgetSrc;
      tag.defer = true;
      tag.dataset.api = api;
      tag.dataset.autoInit = 'false';
      tag.onload = () => {
        window.Frontdesk.init({
          api,
          links: { post: (slug) => postHref(slug), service: (slug) => `#service-${encodeURIComponent(slug)}` },
        });
        resolve();
      };
      tag.onerror = () => reject(new Error(`could not load ${widgetSrc}`));
      document.head.append(tag);
    });
  }

  function fail(err) {
    const status = $('post-status');
    if (status) {
      status.textContent = err && err.status === 404
        ? 'This article does not exist (or is not published).'
        : `The API at ${api} could not be reached (${err && err.message ? err.message : 'unknown error'}).`;
      status.classList.add('error');
    }
    $('post').removeAttribute('aria-busy');
  }

  async function main() {
    $('api-base').textContent = api;
    const widget = loadWidget().catch((e) => console.error(e));
    const sitePromise = get('/v1/site').catch(() => null);
    get('/v1/services').then((r) => renderServices(r.items || [])).catch(() => {});
    try {
      let slug = params.get('post');
      if (!slug) {
        const list = await get('/v1/posts?limit=1');
        if (!list.items || !list.items.length) throw Object.assign(new Error('there are no published posts'), { status: 0 });
        slug = list.items[0].slug;
      }
      const [post, site] = await Promise.all([get(`/v1/posts/${encodeURIComponent(slug)}`), sitePromise]);
      if (site) renderSite(site);
      renderPost(post, site);
      get(`/v1/posts/${encodeURIComponent(slug)}/related`).then((r) => renderRelated(r.items || [])).catch(() => {});
    } catch (err) {
      const site = await sitePromise;
      if (site) renderSite(site);
      fail(err);
    }
    await widget;
    document.documentElement.dataset.ready = 'true';
  }
  main();
})();
