#!/usr/bin/env node
// Runs the official Ghost Content API client (@tryghost/content-api) against a server and checks
// that its answers are what a real Ghost 6 answers: the calls real front-ends make (gatsby-source-ghost
// first), the shapes of posts, pages, tags, authors, settings, tiers and newsletters, Ghost's rules for
// excerpt / reading_time / primary_tag / primary_author / access / counts, pagination, fields, formats,
// order, filters (every filtered answer is cross-checked with Ghost's own NQL evaluator over the
// unfiltered list), error shapes and the HTTP headers (CORS, ETag, Cache-Control, Content-Version).
//
//   node .ci/ghost-client/check.mjs --url http://127.0.0.1:PORT --key 26HEXKEY [options]
//
// Options:
//   --version V       the client's `version` (Accept-Version header), default v6.0
//   --ghost-routes    also require Ghost's default URLs: {site}{slug}/, {site}tag/{slug}/, {site}author/{slug}/
//   --require-content turn SKIPs for lack of content (too few posts, no tags...) into FAILs
//   --skip GROUPS     comma-separated groups not to run: tiers,newsletters,headers
//   --verbose         print the details of passing checks too
//
// The field lists and rules come from answers captured from Ghost 6.65 (tests/fixtures/ghost/responses/,
// described in tests/fixtures/ghost/NOTES.md). Nothing here depends on particular content: slugs, tags,
// authors and dates to filter on are discovered from the unfiltered lists.
//
// Prints one PASS/FAIL/SKIP line per check, then "N passed, N failed, N skipped"; exits 1 on any failure.

import GhostContentAPI from '@tryghost/content-api';
import nql from '@tryghost/nql';
import {isDeepStrictEqual, parseArgs, inspect} from 'node:util';
import http from 'node:http';
import https from 'node:https';

const {values: args} = parseArgs({
    options: {
        url: {type: 'string'},
        key: {type: 'string'},
        version: {type: 'string', default: 'v6.0'},
        'ghost-routes': {type: 'boolean', default: false},
        'require-content': {type: 'boolean', default: false},
        skip: {type: 'string', default: ''},
        verbose: {type: 'boolean', default: false},
        timeout: {type: 'string', default: '300'}
    }
});
if (!args.url || !args.key) {
    console.error('usage: node check.mjs --url http://127.0.0.1:PORT --key 26HEXKEY [--version v6.0] [--ghost-routes] [--require-content] [--skip tiers,newsletters,headers] [--verbose]');
    process.exit(2);
}
const URL_BASE = args.url.replace(/\/+$/, '');
const KEY = args.key;
const SKIP = new Set(args.skip.split(',').map(s => s.trim()).filter(Boolean));
const watchdog = setTimeout(() => {
    console.log(`FAIL watchdog: the checks did not finish within ${args.timeout}s`);
    process.exit(1);
}, Number(args.timeout) * 1000);
watchdog.unref();

// ---------------------------------------------------------------------------------------------
// Field lists as Ghost 6.65 answers them (see tests/fixtures/ghost/responses/*.json).

const POST_FIELDS = [
    'id', 'uuid', 'title', 'slug', 'html', 'comment_id', 'plaintext', 'feature_image', 'featured', 'visibility',
    'created_at', 'updated_at', 'published_at', 'custom_excerpt', 'codeinjection_head', 'codeinjection_foot',
    'custom_template', 'canonical_url', 'tags', 'authors', 'primary_author', 'primary_tag', 'url', 'excerpt',
    'reading_time', 'access', 'comments', 'og_image', 'og_title', 'og_description', 'twitter_image', 'twitter_title',
    'twitter_description', 'meta_title', 'meta_description', 'email_subject', 'frontmatter', 'feature_image_alt',
    'feature_image_caption'
];
// Pages: no email_subject; show_title_and_feature_image instead.
const PAGE_FIELDS = POST_FIELDS.filter(f => f !== 'email_subject').concat(['show_title_and_feature_image']);
// Present unless the stored content is empty: plaintext (when formats asks for it) and reading_time (when html is stored).
const CONDITIONAL_FIELDS = new Set(['plaintext', 'reading_time']);
const TAG_FIELDS = [
    'id', 'name', 'slug', 'description', 'feature_image', 'visibility', 'og_image', 'og_title', 'og_description',
    'twitter_image', 'twitter_title', 'twitter_description', 'meta_title', 'meta_description', 'codeinjection_head',
    'codeinjection_foot', 'canonical_url', 'accent_color', 'url'
];
const AUTHOR_FIELDS = [
    'id', 'name', 'slug', 'profile_image', 'cover_image', 'bio', 'website', 'location', 'facebook', 'twitter',
    'threads', 'bluesky', 'mastodon', 'tiktok', 'youtube', 'instagram', 'linkedin', 'meta_title', 'meta_description', 'url'
];
const SETTINGS_FIELDS = [
    'title', 'description', 'logo', 'icon', 'accent_color', 'cover_image', 'facebook', 'twitter', 'threads', 'bluesky',
    'mastodon', 'tiktok', 'youtube', 'instagram', 'linkedin', 'locale', 'timezone', 'codeinjection_head',
    'codeinjection_foot', 'navigation', 'secondary_navigation', 'meta_title', 'meta_description', 'og_image', 'og_title',
    'og_description', 'twitter_image', 'twitter_title', 'twitter_description', 'members_support_address',
    'members_enabled', 'donations_enabled', 'allow_self_signup', 'members_invite_only', 'members_signup_access',
    'paid_members_enabled', 'firstpromoter_account', 'portal_button_style', 'portal_button_signup_text',
    'portal_button_icon', 'portal_signup_terms_html', 'portal_signup_checkbox_required', 'portal_signup_gift_promotion',
    'portal_account_gift_promotion', 'portal_plans', 'portal_default_plan', 'portal_name', 'portal_button',
    'comments_enabled', 'recommendations_enabled', 'outbound_link_tagging', 'default_email_address',
    'support_email_address', 'editor_default_email_recipients', 'labs', 'transistor_portal_enabled',
    'transistor_portal_heading', 'transistor_portal_description', 'transistor_portal_button_text',
    'transistor_portal_url_template', 'site_uuid', 'lang', 'url', 'version'
];
const TIER_FIELDS = ['id', 'name', 'description', 'slug', 'active', 'type', 'welcome_page_url', 'created_at', 'updated_at', 'visibility', 'benefits', 'trial_days'];
const PAID_TIER_FIELDS = TIER_FIELDS.concat(['currency', 'monthly_price', 'yearly_price']);
const NEWSLETTER_FIELDS = ['id', 'uuid', 'name', 'description', 'slug', 'sender_email', 'subscribe_on_signup', 'visibility', 'sort_order', 'created_at', 'updated_at'];
const PAGINATION_FIELDS = ['page', 'limit', 'pages', 'total', 'next', 'prev'];
const ERROR_FIELDS = ['message', 'context', 'type', 'details', 'property', 'help', 'code', 'id', 'ghostErrorCode'];

// Ghost's own NQL expansions for evaluating filters over post JSON (core/server/services/url/router-filter.js
// in Ghost 6.65; the SQL side, core/server/models/post.js filterExpansions, maps the same keys).
const EXPANSIONS = [
    {key: 'author', replacement: 'authors.slug'},
    {key: 'tags', replacement: 'tags.slug'},
    {key: 'tag', replacement: 'tags.slug'},
    {key: 'authors', replacement: 'authors.slug'},
    {key: 'primary_tag', replacement: 'primary_tag.slug'},
    {key: 'primary_author', replacement: 'primary_author.slug'}
];

// Ghost's API date format: ISO 8601 with milliseconds and a numeric offset (the site's timezone), never Z.
const GHOST_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/;
const UTC_Z_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------
// Reporting

let passed = 0;
let failed = 0;
let skipped = 0;

class Skip extends Error {}
function skip(why) {
    throw new Skip(why);
}
function needContent(cond, why) {
    if (!cond) {
        if (args['require-content']) {
            throw new Error(`not enough content: ${why}`);
        }
        skip(`not enough content: ${why}`);
    }
}
function fail(msg) {
    throw new Error(msg);
}
function expect(cond, msg) {
    if (!cond) {
        fail(typeof msg === 'function' ? msg() : msg);
    }
}
function expectEqual(actual, expected, what) {
    if (!isDeepStrictEqual(actual, expected)) {
        fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
    }
}
function show(v) {
    return inspect(v, {depth: 4, breakLength: Infinity, maxArrayLength: 30, maxStringLength: 200});
}

async function check(name, fn, group) {
    if (group && SKIP.has(group)) {
        skipped += 1;
        console.log(`SKIP ${name}: group '${group}' skipped by --skip`);
        return undefined;
    }
    try {
        const detail = await fn();
        passed += 1;
        console.log(`PASS ${name}${detail && args.verbose ? ` — ${detail}` : ''}`);
        return detail;
    } catch (err) {
        if (err instanceof Skip) {
            skipped += 1;
            console.log(`SKIP ${name}: ${err.message}`);
            return undefined;
        }
        failed += 1;
        const status = err.response ? ` (HTTP ${err.response.status}${err.name ? ` ${err.name}` : ''})` : '';
        console.log(`FAIL ${name}: ${err.message}${status}`);
        return undefined;
    }
}

// Problems are collected per item so that one check reports the first few, not only the first.
function problems() {
    const list = [];
    return {
        add(msg) {
            list.push(msg);
        },
        done(what) {
            if (list.length) {
                fail(`${list.length} problem(s) in ${what}: ${list.slice(0, 8).join('; ')}${list.length > 8 ? '; …' : ''}`);
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// HTTP

const api = new GhostContentAPI({url: URL_BASE, key: KEY, version: args.version});
const wrongKey = KEY.replace(/[0-9a-f]/g, c => ((parseInt(c, 16) + 1) % 16).toString(16));
const badApi = new GhostContentAPI({url: URL_BASE, key: wrongKey, version: args.version});

// The query string exactly as the client builds it (encodeURIComponent, arrays joined by commas).
function qs(params) {
    return Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent([].concat(v).join(','))}`).join('&');
}
async function raw(path, params = {}, {key = KEY, headers = {}, method = 'GET', version = args.version} = {}) {
    const query = qs(key ? {key, ...params} : params);
    const url = `${URL_BASE}/ghost/api/content/${path}${query ? `?${query}` : ''}`;
    const h = {'User-Agent': 'frontdesk-ghost-client-check', ...headers};
    if (version) {
        h['Accept-Version'] = version;
    }
    // node:http rather than fetch: fetch adds Cache-Control/Pragma no-cache to conditional requests,
    // which (rightly) defeats If-None-Match.
    const {status, headers: resHeaders, text} = await new Promise((resolve, reject) => {
        const req = (url.startsWith('https:') ? https : http).request(url, {method, headers: h, timeout: 30000}, (res) => {
            const chunks = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () => resolve({status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8')}));
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
        req.on('error', reject);
        req.end();
    });
    let body = null;
    try {
        body = text ? JSON.parse(text) : null;
    } catch {
        body = text;
    }
    const get = name => {
        const v = resHeaders[name.toLowerCase()];
        return v === undefined ? null : [].concat(v).join(', ');
    };
    return {status, headers: {get}, body, text, url};
}

// Every page of a browse, 100 at a time (Ghost 6 caps `limit` at 100, `limit=all` included).
async function browseAll(resource, options = {}) {
    const all = [];
    let meta;
    for (let page = 1; page < 1000; page += 1) {
        const got = await api[resource].browse({...options, limit: 100, page});
        all.push(...got);
        meta = got.meta;
        if (!meta || !meta.pagination || !meta.pagination.next) {
            break;
        }
    }
    return Object.assign(all, {meta});
}

async function expectClientError(promise, status, type) {
    try {
        const got = await promise;
        fail(`expected HTTP ${status} ${type}, got a success: ${show(got).slice(0, 200)}`);
    } catch (err) {
        if (!err.response) {
            throw err;
        }
        expectEqual(err.response.status, status, 'status');
        expectEqual(err.name, type, 'errors[0].type (the client\'s error name)');
        expectErrorBody(err.response.data, type);
        return `${status} ${type}: ${err.message}`;
    }
}
function expectErrorBody(body, type) {
    expect(body && Array.isArray(body.errors) && body.errors.length === 1, () => `body is not {errors:[one error]}: ${show(body)}`);
    const e = body.errors[0];
    expectEqual(Object.keys(e).sort(), [...ERROR_FIELDS].sort(), 'errors[0] field names');
    expectEqual(e.type, type, 'errors[0].type');
    expect(typeof e.message === 'string' && e.message.length > 0, 'errors[0].message is a non-empty string');
    expect(typeof e.id === 'string' && e.id.length > 0, 'errors[0].id is a non-empty string');
}
function expectRawError(res, status, type) {
    expectEqual(res.status, status, `status of ${res.url.replace(KEY, '{key}')}`);
    expectErrorBody(res.body, type);
    expect((res.headers.get('content-type') || '').startsWith('application/json'), 'content-type is application/json');
    return `${status} ${type}: ${res.body.errors[0].message}`;
}

// ---------------------------------------------------------------------------------------------
// Shapes and rules

function sameKeys(obj, fields, where, p, {conditional = new Set(), extra = []} = {}) {
    const want = new Set(fields.concat(extra));
    const got = Object.keys(obj);
    const missing = [...want].filter(f => !(f in obj) && !conditional.has(f));
    const unexpected = got.filter(f => !want.has(f));
    if (missing.length) {
        p.add(`${where}: missing ${missing.join(',')}`);
    }
    if (unexpected.length) {
        p.add(`${where}: unexpected ${unexpected.join(',')}`);
    }
}
const isStrOrNull = v => v === null || typeof v === 'string';
const isAbsUrl = v => typeof v === 'string' && /^https?:\/\/[^/]+\//.test(v);
const isAbsUrlOrNull = v => v === null || isAbsUrl(v);

let SITE_URL = null; // settings.url, e.g. http://127.0.0.1:2368/

function checkTag(t, where, p, {count = false} = {}) {
    sameKeys(t, TAG_FIELDS, where, p, {extra: count ? ['count'] : []});
    if (typeof t.id !== 'string' || !t.id) p.add(`${where}: id is not a non-empty string`);
    for (const f of ['name', 'slug']) if (typeof t[f] !== 'string' || !t[f]) p.add(`${where}: ${f} is not a non-empty string`);
    if (!['public', 'internal'].includes(t.visibility)) p.add(`${where}: visibility ${show(t.visibility)}`);
    if (t.visibility === 'internal' && !(t.name || '').startsWith('#')) p.add(`${where}: internal tag whose name does not start with #`);
    if ((t.name || '').startsWith('#') && t.visibility !== 'internal') p.add(`${where}: tag named with # is not internal`);
    for (const f of ['description', 'og_title', 'og_description', 'twitter_title', 'twitter_description', 'meta_title', 'meta_description', 'codeinjection_head', 'codeinjection_foot', 'canonical_url', 'accent_color']) {
        if (f in t && !isStrOrNull(t[f])) p.add(`${where}: ${f} is not a string or null`);
    }
    for (const f of ['feature_image', 'og_image', 'twitter_image']) if (f in t && !isAbsUrlOrNull(t[f])) p.add(`${where}: ${f} is not an absolute URL or null: ${show(t[f])}`);
    checkUrl(t, where, p, t.visibility === 'internal' ? '404/' : `tag/${t.slug}/`, t.visibility === 'internal' ? /\/404\/$/ : null);
    if (count) {
        if (!t.count || !Number.isInteger(t.count.posts) || t.count.posts < 0 || Object.keys(t.count).join() !== 'posts') p.add(`${where}: count is not {posts: integer}: ${show(t.count)}`);
    }
}
function checkAuthor(a, where, p, {count = false} = {}) {
    sameKeys(a, AUTHOR_FIELDS, where, p, {extra: count ? ['count'] : []});
    if (typeof a.id !== 'string' || !a.id) p.add(`${where}: id is not a non-empty string`);
    for (const f of ['name', 'slug']) if (typeof a[f] !== 'string' || !a[f]) p.add(`${where}: ${f} is not a non-empty string`);
    for (const f of ['bio', 'website', 'location', 'facebook', 'twitter', 'threads', 'bluesky', 'mastodon', 'tiktok', 'youtube', 'instagram', 'linkedin', 'meta_title', 'meta_description']) {
        if (f in a && !isStrOrNull(a[f])) p.add(`${where}: ${f} is not a string or null`);
    }
    for (const f of ['profile_image', 'cover_image']) if (f in a && !isAbsUrlOrNull(a[f])) p.add(`${where}: ${f} is not an absolute URL or null: ${show(a[f])}`);
    checkUrl(a, where, p, `author/${a.slug}/`);
    if (count) {
        if (!a.count || !Number.isInteger(a.count.posts) || a.count.posts < 0 || Object.keys(a.count).join() !== 'posts') p.add(`${where}: count is not {posts: integer}: ${show(a.count)}`);
    }
}
function checkUrl(obj, where, p, ghostPath, pattern = null) {
    if (!('url' in obj)) return;
    if (!isAbsUrl(obj.url)) {
        p.add(`${where}: url is not absolute: ${show(obj.url)}`);
        return;
    }
    const re = pattern || new RegExp(`/${escapeRe(obj.slug)}/$`);
    if (!re.test(obj.url)) p.add(`${where}: url ${obj.url} does not end with ${pattern ? pattern : `/${obj.slug}/`}`);
    if (args['ghost-routes'] && SITE_URL && obj.url !== SITE_URL + ghostPath) p.add(`${where}: url ${obj.url} is not Ghost's default ${SITE_URL + ghostPath}`);
}
const escapeRe = s => String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Ghost's readingMinutes (@tryghost/helpers): 275 words a minute, 12s for the first image, 11 for the
// second … never under 3s an image; the feature image counts as one more image; rounded to minutes.
function readingMinutes(html, additionalImages) {
    const text = html.replace(/<("[^"]*"|'[^']*'|[^'">])+\/?>/g, ' ');
    const match = text.match(/[a-zA-ZÀ-ÿ0-9_\u0392-\u03c9\u0410-\u04F9]+|[\u4E00-\u9FFF\u3400-\u4dbf\uf900-\ufaff\u3040-\u309f\uac00-\ud7af]+/g) || text.match(/([\u0600-\u06ff]+|[\u0591-\u05F4]+)/g);
    let words = 0;
    for (const m of match || []) words += m.charCodeAt(0) >= 0x4e00 ? m.length : 1;
    const images = (html.match(/<img("[^"]*"|'[^']*'|[^'">])+\/?>/g) || []).length + additionalImages;
    let seconds = words / (275 / 60);
    for (let i = 12; i > 12 - images; i -= 1) seconds += Math.max(i, 3);
    return Math.round(seconds / 60);
}

// A post or page as answered with include=tags,authors and formats=html,plaintext.
function checkPostLike(x, kind, where, p) {
    sameKeys(x, kind === 'page' ? PAGE_FIELDS : POST_FIELDS, where, p, {conditional: CONDITIONAL_FIELDS});
    if (typeof x.id !== 'string' || !x.id) p.add(`${where}: id is not a non-empty string`);
    if (typeof x.uuid !== 'string' || !UUID.test(x.uuid)) p.add(`${where}: uuid is not a UUID: ${show(x.uuid)}`);
    for (const f of ['title', 'slug']) if (typeof x[f] !== 'string' || !x[f]) p.add(`${where}: ${f} is not a non-empty string`);
    if (typeof x.comment_id !== 'string') p.add(`${where}: comment_id is not a string`);
    for (const f of ['html', 'custom_excerpt', 'codeinjection_head', 'codeinjection_foot', 'custom_template', 'canonical_url', 'og_title', 'og_description', 'twitter_title', 'twitter_description', 'meta_title', 'meta_description', 'email_subject', 'frontmatter', 'feature_image_alt', 'feature_image_caption']) {
        if (f in x && !isStrOrNull(x[f])) p.add(`${where}: ${f} is not a string or null`);
    }
    if ('plaintext' in x && typeof x.plaintext !== 'string') p.add(`${where}: plaintext is not a string`);
    for (const f of ['feature_image', 'og_image', 'twitter_image']) if (!isAbsUrlOrNull(x[f])) p.add(`${where}: ${f} is not an absolute URL or null: ${show(x[f])}`);
    for (const f of ['featured', 'access', 'comments']) if (typeof x[f] !== 'boolean') p.add(`${where}: ${f} is not a boolean`);
    if (kind === 'page' && typeof x.show_title_and_feature_image !== 'boolean') p.add(`${where}: show_title_and_feature_image is not a boolean`);
    if (!['public', 'members', 'paid', 'tiers'].includes(x.visibility)) p.add(`${where}: visibility ${show(x.visibility)}`);
    for (const f of ['created_at', 'updated_at', 'published_at']) if (!GHOST_DATE.test(x[f])) p.add(`${where}: ${f} is not a Ghost date (YYYY-MM-DDTHH:mm:ss.SSS±hh:mm): ${show(x[f])}`);
    if (typeof x.excerpt !== 'string' && x.excerpt !== null) p.add(`${where}: excerpt is not a string or null`);
    if ('reading_time' in x && (!Number.isInteger(x.reading_time) || x.reading_time < 0)) p.add(`${where}: reading_time is not an integer >= 0`);
    checkUrl(x, where, p, `${x.slug}/`);
    if (!Array.isArray(x.tags)) p.add(`${where}: tags is not an array`);
    else x.tags.forEach((t, i) => checkTag(t, `${where}.tags[${i}]`, p));
    if (!Array.isArray(x.authors) || x.authors.length === 0) p.add(`${where}: authors is not a non-empty array`);
    else x.authors.forEach((a, i) => checkAuthor(a, `${where}.authors[${i}]`, p));

    // primary_author is the first author; primary_tag the first tag if that tag is public, else null
    // (an internal first tag does not give way to the next one).
    if (Array.isArray(x.authors) && x.authors.length && !isDeepStrictEqual(x.primary_author, x.authors[0])) p.add(`${where}: primary_author is not authors[0]`);
    if (Array.isArray(x.tags)) {
        const want = x.tags.length && x.tags[0].visibility === 'public' ? x.tags[0] : null;
        if (!isDeepStrictEqual(x.primary_tag, want)) p.add(`${where}: primary_tag should be ${want ? `tags[0] (${want.slug})` : 'null'} but is ${show(x.primary_tag && x.primary_tag.slug)}`);
    }
    // Anonymous reader: public content is accessible, members/paid content is not.
    if (x.visibility === 'public' && x.access !== true) p.add(`${where}: public content with access ${x.access}`);
    if ((x.visibility === 'members' || x.visibility === 'paid') && x.access !== false) p.add(`${where}: ${x.visibility} content with access ${x.access} for an anonymous reader`);
    if (x.access === false && x.comments !== false) p.add(`${where}: comments should be false when access is false`);
    // excerpt: custom_excerpt when set, else the first 500 characters of plaintext ('' / null when none).
    if (x.custom_excerpt !== null && x.custom_excerpt !== undefined) {
        if (x.excerpt !== x.custom_excerpt) p.add(`${where}: excerpt ${show(x.excerpt)} is not custom_excerpt ${show(x.custom_excerpt)}`);
    } else if (x.access) {
        const want = x.plaintext ? x.plaintext.substring(0, 500) : null;
        if (x.excerpt !== want) p.add(`${where}: excerpt is not the first 500 characters of plaintext: ${show(x.excerpt)} vs ${show(want)}`);
    } else if (x.excerpt !== '' && x.excerpt !== (x.plaintext ? x.plaintext.substring(0, 500) : null)) {
        p.add(`${where}: gated excerpt should be '' or the teaser's first 500 characters: ${show(x.excerpt)}`);
    }
    // plaintext and reading_time are left out only when there is no stored text / html.
    if (x.access && x.html && !('plaintext' in x)) p.add(`${where}: html but no plaintext with formats=plaintext`);
    if (x.access && x.html && !('reading_time' in x)) p.add(`${where}: html but no reading_time`);
    if (x.access && x.html && 'reading_time' in x) {
        const want = readingMinutes(x.html, x.feature_image ? 1 : 0);
        if (x.reading_time !== want) p.add(`${where}: reading_time ${x.reading_time}, Ghost's formula over html gives ${want}`);
    }
    if (x.access === false && x.visibility !== 'public' && x.html && x.plaintext === undefined) p.add(`${where}: gated html without plaintext`);
}

function checkPagination(meta, {page, limit, total, count}, what) {
    expect(meta && meta.pagination, `${what}: no meta.pagination`);
    const m = meta.pagination;
    expectEqual(Object.keys(m).sort(), [...PAGINATION_FIELDS].sort(), `${what}: meta.pagination field names`);
    expectEqual(m.page, page, `${what}: meta.pagination.page`);
    if (limit === 'all') {
        // Ghost 6 caps limit=all at 100 and says so; Ghost 5 answered "all".
        expect(m.limit === 100 || m.limit === 'all', `${what}: meta.pagination.limit for limit=all should be 100 (Ghost 6) or "all", got ${show(m.limit)}`);
    } else {
        expectEqual(m.limit, limit, `${what}: meta.pagination.limit`);
    }
    if (total !== undefined) expectEqual(m.total, total, `${what}: meta.pagination.total`);
    const lim = m.limit === 'all' ? Math.max(m.total, 1) : m.limit;
    const pages = Math.max(1, Math.ceil(m.total / lim));
    expectEqual(m.pages, pages, `${what}: meta.pagination.pages (total ${m.total}, limit ${m.limit})`);
    expectEqual(m.next, m.page < m.pages ? m.page + 1 : null, `${what}: meta.pagination.next`);
    expectEqual(m.prev, m.page > 1 ? m.page - 1 : null, `${what}: meta.pagination.prev`);
    if (count !== undefined) {
        const want = m.page > m.pages ? 0 : Math.min(lim, m.total - (m.page - 1) * lim);
        expectEqual(count, Math.max(0, want), `${what}: number of items on page ${m.page}`);
    }
}

// For NQL over JSON: dates as UTC ISO strings so that string comparison with 'YYYY-MM-DD' is right
// whatever offset the server answers in.
function forNql(x) {
    const out = {...x};
    for (const f of ['created_at', 'updated_at', 'published_at']) {
        if (typeof out[f] === 'string') out[f] = new Date(out[f]).toISOString();
    }
    return out;
}
// Ghost: a filter holding slug:[a,b,c] and no explicit order answers in the order of that list
// (core/server/api/endpoints/utils/serializers/input/utils/slug-filter-order.js).
function slugListOrder(filter, list) {
    const m = filter.match(/slug:\s?\[(.*)\]/);
    if (!m) return list;
    const order = m[1].split(',').map(x => x.trim());
    return [...list].sort((a, b) => order.indexOf(a.slug) - order.indexOf(b.slug));
}
// Sorted by a text field: Ghost sorts in the database's collation, so accept binary, case-folded or locale order.
function isSortedText(values) {
    const ok = cmp => values.every((v, i) => i === 0 || cmp(values[i - 1], v) <= 0);
    return ok((a, b) => (a < b ? -1 : a > b ? 1 : 0)) || ok((a, b) => { a = a.toLowerCase(); b = b.toLowerCase(); return a < b ? -1 : a > b ? 1 : 0; }) || ok((a, b) => a.localeCompare(b, 'en'));
}
const ids = list => list.map(x => x.id);
const slugs = list => list.map(x => x.slug);
const byDateDesc = (a, b) => Date.parse(b.published_at) - Date.parse(a.published_at);

// ---------------------------------------------------------------------------------------------

async function main() {
    console.log(`Ghost Content API client checks against ${URL_BASE} (client @tryghost/content-api, version ${args.version})`);

    // --- gatsby-source-ghost's five calls -------------------------------------------------------
    const G = {limit: 'all', include: 'tags,authors', formats: 'html,plaintext'};
    let settings = null;
    let posts = null;
    let pages = null;
    let tags = null;
    let authors = null;

    await check('gatsby: api.settings.browse()', async () => {
        settings = await api.settings.browse();
        expect(settings && typeof settings === 'object' && !Array.isArray(settings), 'settings is not an object');
        const p = problems();
        sameKeys(settings, SETTINGS_FIELDS, 'settings', p);
        p.done('settings');
        expect(typeof settings.title === 'string', 'settings.title is a string');
        expect(isAbsUrl(settings.url) && settings.url.endsWith('/'), `settings.url is an absolute URL ending in /: ${show(settings.url)}`);
        for (const nav of ['navigation', 'secondary_navigation']) {
            expect(Array.isArray(settings[nav]) && settings[nav].every(n => typeof n.label === 'string' && typeof n.url === 'string'), `settings.${nav} is an array of {label,url}`);
        }
        for (const f of ['logo', 'icon', 'cover_image', 'og_image', 'twitter_image']) expect(isAbsUrlOrNull(settings[f]), `settings.${f} is an absolute URL or null: ${show(settings[f])}`);
        expect(typeof settings.lang === 'string' && settings.lang === settings.locale, 'settings.lang equals settings.locale');
        expect(typeof settings.labs === 'object' && settings.labs !== null, 'settings.labs is an object');
        expect(Array.isArray(settings.portal_plans), 'settings.portal_plans is an array');
        for (const f of ['members_enabled', 'donations_enabled', 'allow_self_signup', 'members_invite_only', 'paid_members_enabled', 'portal_name', 'portal_button', 'recommendations_enabled', 'outbound_link_tagging']) {
            expect(typeof settings[f] === 'boolean', `settings.${f} is a boolean`);
        }
        SITE_URL = settings.url;
        return `${Object.keys(settings).length} keys, url ${settings.url}`;
    });

    await check("gatsby: api.posts.browse({limit:'all', include:'tags,authors', formats:'html,plaintext'})", async () => {
        posts = await api.posts.browse(G);
        expect(Array.isArray(posts), 'not an array');
        checkPagination(posts.meta, {page: 1, limit: 'all', count: posts.length}, 'posts');
        const p = problems();
        posts.forEach(x => checkPostLike(x, 'post', `post ${x.slug}`, p));
        p.done('posts');
        return `${posts.length} posts`;
    });
    if (posts && posts.meta.pagination.total > posts.length) {
        posts = await browseAll('posts', {include: 'tags,authors', formats: 'html,plaintext'});
    }

    await check("gatsby: api.pages.browse({limit:'all', include:'tags,authors', formats:'html,plaintext'})", async () => {
        pages = await api.pages.browse(G);
        expect(Array.isArray(pages), 'not an array');
        checkPagination(pages.meta, {page: 1, limit: 'all', count: pages.length}, 'pages');
        const p = problems();
        pages.forEach(x => checkPostLike(x, 'page', `page ${x.slug}`, p));
        p.done('pages');
        return `${pages.length} pages`;
    });
    if (pages && pages.meta.pagination.total > pages.length) {
        pages = await browseAll('pages', {include: 'tags,authors', formats: 'html,plaintext'});
    }

    await check("gatsby: api.tags.browse({limit:'all', include:'count.posts'})", async () => {
        tags = await api.tags.browse({limit: 'all', include: 'count.posts'});
        expect(Array.isArray(tags), 'not an array');
        const m = tags.meta && tags.meta.pagination;
        expect(m, 'no meta.pagination');
        expectEqual(Object.keys(m).sort(), [...PAGINATION_FIELDS].sort(), 'meta.pagination field names');
        expect(m.limit === 100 || m.limit === 'all', `meta.pagination.limit should be 100 (Ghost 6) or "all": ${show(m.limit)}`);
        // Ghost quirk: tags.total counts every tag, also those that the list hides (no published post),
        // so only total >= length holds.
        expect(m.total >= tags.length, `meta.pagination.total ${m.total} < ${tags.length} tags`);
        const p = problems();
        tags.forEach(t => checkTag(t, `tag ${t.slug}`, p, {count: true}));
        p.done('tags');
        return `${tags.length} tags (total says ${m.total})`;
    });
    if (tags && tags.meta.pagination.next) {
        tags = await browseAll('tags', {include: 'count.posts'});
    }

    await check("gatsby: api.authors.browse({limit:'all', include:'count.posts'})", async () => {
        authors = await api.authors.browse({limit: 'all', include: 'count.posts'});
        expect(Array.isArray(authors), 'not an array');
        checkPagination(authors.meta, {page: 1, limit: 'all', count: authors.length}, 'authors');
        const p = problems();
        authors.forEach(a => checkAuthor(a, `author ${a.slug}`, p, {count: true}));
        p.done('authors');
        return `${authors.length} authors`;
    });
    if (authors && authors.meta.pagination.next) {
        authors = await browseAll('authors', {include: 'count.posts'});
    }

    if (!posts || !pages || !tags || !authors) {
        console.log('FAIL the unfiltered lists could not be read; the remaining checks need them');
        failed += 1;
        return;
    }

    // --- Ghost's rules across the lists -----------------------------------------------------------
    await check('rules: posts are ordered by published_at desc by default', async () => {
        const sorted = [...posts].sort(byDateDesc);
        expectEqual(ids(posts).filter((id, i) => posts[i].published_at !== sorted[i].published_at).length, 0, 'posts out of published_at desc order');
    });
    await check('rules: pages are ordered by title asc by default', async () => {
        expect(isSortedText(pages.map(x => x.title)), () => `titles out of order: ${show(pages.map(x => x.title))}`);
    });
    await check('rules: tags and authors are ordered by name asc by default', async () => {
        expect(isSortedText(tags.map(x => x.name)), () => `tag names out of order: ${show(tags.map(x => x.name))}`);
        expect(isSortedText(authors.map(x => x.name)), () => `author names out of order: ${show(authors.map(x => x.name))}`);
    });
    await check('rules: tags lists exactly the tags of published posts and pages, internal ones too', async () => {
        const used = new Map();
        for (const x of posts.concat(pages)) for (const t of x.tags) used.set(t.id, t.slug);
        const listed = new Set(ids(tags));
        const notListed = [...used].filter(([id]) => !listed.has(id)).map(([, s]) => s);
        const notUsed = tags.filter(t => !used.has(t.id)).map(t => t.slug);
        expect(!notListed.length, `tags used by published content but missing from the list: ${notListed.join(',')}`);
        expect(!notUsed.length, `tags listed without any published post or page: ${notUsed.join(',')}`);
    });
    await check('rules: tag count.posts = published posts (not pages) with that tag, any visibility', async () => {
        needContent(tags.length > 0, 'no tags');
        const p = problems();
        for (const t of tags) {
            const want = posts.filter(x => x.tags.some(y => y.id === t.id)).length;
            if (t.count.posts !== want) p.add(`${t.slug}: count.posts ${t.count.posts}, posts with it ${want}`);
        }
        p.done('tag counts');
    });
    await check('rules: authors lists exactly the authors of published posts and pages', async () => {
        const used = new Map();
        for (const x of posts.concat(pages)) for (const a of x.authors) used.set(a.id, a.slug);
        const listed = new Set(ids(authors));
        const notListed = [...used].filter(([id]) => !listed.has(id)).map(([, s]) => s);
        const notUsed = authors.filter(a => !used.has(a.id)).map(a => a.slug);
        expect(!notListed.length, `authors of published content missing from the list: ${notListed.join(',')}`);
        expect(!notUsed.length, `authors listed without published content: ${notUsed.join(',')}`);
    });
    await check('rules: author count.posts = published posts (not pages) by that author', async () => {
        const p = problems();
        for (const a of authors) {
            const want = posts.filter(x => x.authors.some(y => y.id === a.id)).length;
            if (a.count.posts !== want) p.add(`${a.slug}: count.posts ${a.count.posts}, posts by them ${want}`);
        }
        p.done('author counts');
    });
    await check('rules: tags and authors embedded in posts equal their list entries (less count)', async () => {
        const tagById = new Map(tags.map(t => [t.id, t]));
        const authorById = new Map(authors.map(a => [a.id, a]));
        const p = problems();
        for (const x of posts.concat(pages)) {
            for (const t of x.tags) {
                const {count, ...listed} = tagById.get(t.id) || {};
                if (!isDeepStrictEqual(t, listed)) p.add(`${x.slug}: tag ${t.slug} differs from its list entry`);
            }
            for (const a of x.authors) {
                const {count, ...listed} = authorById.get(a.id) || {};
                if (!isDeepStrictEqual(a, listed)) p.add(`${x.slug}: author ${a.slug} differs from its list entry`);
            }
        }
        p.done('embedded tags/authors');
    });
    await check('rules: ids and slugs are unique across posts and pages', async () => {
        const all = posts.concat(pages);
        expectEqual(new Set(ids(all)).size, all.length, 'distinct ids');
        expectEqual(new Set(slugs(all)).size, all.length, 'distinct slugs');
    });

    // --- reads --------------------------------------------------------------------------------------
    const first = posts[0];
    await check('read: api.posts.read({slug}, {include, formats}) equals the list entry', async () => {
        needContent(first, 'no posts');
        const got = await api.posts.read({slug: first.slug}, {include: 'tags,authors', formats: 'html,plaintext'});
        expectEqual(got, first, `post ${first.slug}`);
    });
    await check('read: api.posts.read({id}, {include, formats}) equals the list entry', async () => {
        needContent(posts.length > 1, 'fewer than 2 posts');
        const x = posts[posts.length - 1];
        const got = await api.posts.read({id: x.id}, {include: 'tags,authors', formats: 'html,plaintext'});
        expectEqual(got, x, `post ${x.slug}`);
    });
    await check('read: api.posts.read({slug}) without include has no tags/authors but the other fields', async () => {
        needContent(first, 'no posts');
        const got = await api.posts.read({slug: first.slug});
        for (const f of ['tags', 'authors', 'primary_tag', 'primary_author', 'plaintext']) expect(!(f in got), `${f} should be absent without include/formats`);
        const want = POST_FIELDS.filter(f => !['tags', 'authors', 'primary_tag', 'primary_author', 'plaintext'].includes(f) && !(f === 'reading_time' && !('reading_time' in first)));
        expectEqual(Object.keys(got).sort(), want.sort(), 'field names');
        expectEqual(got.html, first.html, 'html');
    });
    await check('read: a read answer has no meta (the client returns the object itself)', async () => {
        needContent(first, 'no posts');
        const res = await raw(`posts/slug/${first.slug}/`, {slug: first.slug});
        expectEqual(res.status, 200, 'status');
        expectEqual(Object.keys(res.body), ['posts'], 'top-level keys');
        expect(Array.isArray(res.body.posts) && res.body.posts.length === 1, 'posts is an array of one');
    });
    await check('read: api.pages.read({slug}) and ({id}) equal the list entry', async () => {
        needContent(pages.length > 0, 'no pages');
        const pg = pages[0];
        expectEqual(await api.pages.read({slug: pg.slug}, {include: 'tags,authors', formats: 'html,plaintext'}), pg, `page ${pg.slug} by slug`);
        expectEqual(await api.pages.read({id: pg.id}, {include: 'tags,authors', formats: 'html,plaintext'}), pg, `page ${pg.slug} by id`);
    });
    await check('read: a page is not found through posts/, a post not through pages/', async () => {
        needContent(pages.length > 0 && first, 'no pages or no posts');
        await expectClientError(api.posts.read({slug: pages[0].slug}), 404, 'NotFoundError');
        await expectClientError(api.pages.read({slug: first.slug}), 404, 'NotFoundError');
    });
    await check('read: api.tags.read({slug}) and ({id}) equal the list entry', async () => {
        needContent(tags.length > 0, 'no tags');
        const t = tags[0];
        expectEqual(await api.tags.read({slug: t.slug}, {include: 'count.posts'}), t, `tag ${t.slug} by slug`);
        const {count, ...plain} = t;
        expectEqual(await api.tags.read({id: t.id}), plain, `tag ${t.slug} by id (no count without include)`);
    });
    await check('read: api.authors.read({slug}) and ({id}) equal the list entry', async () => {
        const a = authors[0];
        needContent(a, 'no authors');
        expectEqual(await api.authors.read({slug: a.slug}, {include: 'count.posts'}), a, `author ${a.slug} by slug`);
        const {count, ...plain} = a;
        expectEqual(await api.authors.read({id: a.id}), plain, `author ${a.slug} by id`);
    });

    // --- pagination -------------------------------------------------------------------------------
    const total = posts.length;
    await check('pagination: browse({limit: 2, page: 1}) — meta and items', async () => {
        needContent(total >= 1, 'no posts');
        const got = await api.posts.browse({limit: 2, page: 1});
        checkPagination(got.meta, {page: 1, limit: 2, total, count: got.length}, 'page 1');
        expectEqual(ids(got), ids(posts.slice(0, 2)), 'ids of page 1');
        return show(got.meta.pagination);
    });
    await check('pagination: browse({limit: 2, page: 2}) — meta and items', async () => {
        needContent(total >= 3, 'fewer than 3 posts');
        const got = await api.posts.browse({limit: 2, page: 2});
        checkPagination(got.meta, {page: 2, limit: 2, total, count: got.length}, 'page 2');
        expectEqual(ids(got), ids(posts.slice(2, 4)), 'ids of page 2');
        return show(got.meta.pagination);
    });
    await check('pagination: the last page has next null; pages concatenate to the whole list', async () => {
        needContent(total >= 2, 'fewer than 2 posts');
        const pagesCount = Math.ceil(total / 2);
        const seen = [];
        for (let pg = 1; pg <= pagesCount; pg += 1) {
            const got = await api.posts.browse({limit: 2, page: pg, fields: 'id'});
            checkPagination(got.meta, {page: pg, limit: 2, total, count: got.length}, `page ${pg}`);
            seen.push(...ids(got));
        }
        expectEqual(seen, ids(posts), 'ids across all pages');
    });
    await check('pagination: a page past the end is empty, with page/prev/next still computed', async () => {
        const got = await api.posts.browse({limit: 2, page: 99, fields: 'id'});
        expectEqual(got.length, 0, 'items');
        const m = got.meta.pagination;
        expectEqual([m.page, m.limit, m.total, m.pages], [99, 2, total, Math.max(1, Math.ceil(total / 2))], '[page, limit, total, pages]');
    });
    await check('pagination: default limit is 15', async () => {
        const got = await api.posts.browse({fields: 'id'});
        checkPagination(got.meta, {page: 1, limit: 15, total, count: got.length}, 'default');
    });

    // --- fields, formats, order ----------------------------------------------------------------------
    await check("fields: browse({fields: 'title,slug'}) answers exactly those", async () => {
        needContent(total >= 1, 'no posts');
        const got = await api.posts.browse({fields: 'title,slug', limit: 'all'});
        const p = problems();
        got.forEach(x => {
            if (Object.keys(x).sort().join() !== 'slug,title') p.add(`${x.slug}: keys ${Object.keys(x).join(',')}`);
        });
        p.done('fields');
        expectEqual(got.map(x => [x.slug, x.title]), posts.map(x => [x.slug, x.title]), '[slug,title] in order');
    });
    await check("fields: browse({fields: 'id,title,url'}) computes url", async () => {
        needContent(total >= 1, 'no posts');
        const got = await api.posts.browse({fields: 'id,title,url', limit: 'all'});
        expectEqual(got.map(x => Object.keys(x).sort().join()), got.map(() => 'id,title,url'), 'keys');
        expectEqual(got.map(x => x.url), posts.map(x => x.url), 'urls');
    });
    await check("fields: api.posts.read({slug}, {fields: 'title,slug,url'})", async () => {
        needContent(first, 'no posts');
        const got = await api.posts.read({slug: first.slug}, {fields: 'title,slug,url'});
        expectEqual(got, {slug: first.slug, title: first.title, url: first.url}, 'the read');
    });
    await check("formats: browse({formats: 'plaintext'}) has plaintext and no html", async () => {
        needContent(posts.some(x => x.access && x.plaintext), 'no readable post with text');
        const got = await api.posts.browse({formats: 'plaintext', limit: 'all'});
        const p = problems();
        got.forEach((x, i) => {
            if ('html' in x) p.add(`${x.slug}: html present`);
            // Gated posts: without html in the answer the paywall cannot be found, so text fields are ''.
            if (posts[i].access && posts[i].plaintext !== undefined && x.plaintext !== posts[i].plaintext) p.add(`${x.slug}: plaintext differs from the formats=html,plaintext answer`);
            if (!posts[i].access && x.plaintext !== undefined && x.plaintext !== '') p.add(`${x.slug}: gated post without html should have plaintext '': ${show(x.plaintext)}`);
        });
        p.done('formats=plaintext');
    });
    await check('formats: default answers html and no plaintext', async () => {
        needContent(total >= 1, 'no posts');
        const got = await api.posts.browse({limit: 'all'});
        const p = problems();
        got.forEach((x, i) => {
            // Ghost quirk: a gated post cut at its <!--members-only--> paywall gets plaintext recomputed
            // from the teaser, requested or not.
            if ('plaintext' in x && !(x.access === false && x.plaintext === posts[i].plaintext)) p.add(`${x.slug}: plaintext present`);
            if (x.html !== posts[i].html) p.add(`${x.slug}: html differs`);
        });
        p.done('default formats');
    });
    await check("formats: 'mobiledoc,lexical' are never given out", async () => {
        needContent(total >= 1, 'no posts');
        const got = await api.posts.browse({formats: 'mobiledoc,lexical', limit: 2});
        got.forEach(x => expect(!('mobiledoc' in x) && !('lexical' in x) && !('html' in x), `${x.slug}: has ${Object.keys(x).filter(k => ['mobiledoc', 'lexical', 'html'].includes(k))}`));
    });
    await check("order: browse({order: 'published_at asc'})", async () => {
        needContent(total >= 2, 'fewer than 2 posts');
        const got = await api.posts.browse({order: 'published_at asc', limit: 'all', fields: 'id,published_at'});
        const times = got.map(x => Date.parse(x.published_at));
        expect(times.every((t, i) => i === 0 || times[i - 1] <= t), 'not ascending');
        expectEqual(new Set(ids(got)), new Set(ids(posts)), 'same posts');
    });
    await check("order: browse({order: 'featured desc, published_at asc'})", async () => {
        needContent(total >= 2, 'fewer than 2 posts');
        const got = await api.posts.browse({order: 'featured desc, published_at asc', limit: 'all', fields: 'id,featured,published_at'});
        const want = [...posts].sort((a, b) => (Number(b.featured) - Number(a.featured)) || (Date.parse(a.published_at) - Date.parse(b.published_at)));
        expectEqual(got.map(x => [x.featured, x.published_at]), want.map(x => [x.featured, x.published_at]), '[featured, published_at] sequence');
    });

    // --- filters, each cross-checked with NQL over the unfiltered list ------------------------------
    const tagFreq = new Map();
    for (const x of posts) for (const t of x.tags) if (t.visibility === 'public') tagFreq.set(t.slug, (tagFreq.get(t.slug) || 0) + 1);
    const byFreq = [...tagFreq].sort((a, b) => b[1] - a[1]).map(([s]) => s);
    const T1 = byFreq.find(s => tagFreq.get(s) < total) || byFreq[0];
    const T2 = byFreq.find(s => s !== T1);
    const internal = posts.flatMap(x => x.tags).find(t => t.visibility === 'internal');
    const authorFreq = new Map();
    for (const x of posts) for (const a of x.authors) authorFreq.set(a.slug, (authorFreq.get(a.slug) || 0) + 1);
    const A1 = [...authorFreq].sort((a, b) => b[1] - a[1]).map(([s]) => s)[0];
    const primaryTags = posts.map(x => x.primary_tag && x.primary_tag.slug).filter(Boolean);
    const PT = primaryTags[0];
    const S1 = first && first.slug;
    const S2 = posts.length > 1 ? posts[posts.length - 1].slug : undefined;
    const word = first && (first.title.match(/[A-Za-z]{4,}/g) || []).sort((a, b) => b.length - a.length)[0];
    // A date (YYYY-MM-DD, UTC) between two posts' publication days, on which nothing was published.
    let PIVOT;
    {
        const days = [...new Set(posts.map(x => new Date(x.published_at).toISOString().slice(0, 10)))].sort();
        for (let i = Math.floor(days.length / 2); i < days.length && !PIVOT; i += 1) {
            if (i === 0) continue;
            const next = new Date(Date.parse(`${days[i - 1]}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
            if (next < days[i]) PIVOT = next;
        }
        for (let i = 1; i < days.length && !PIVOT; i += 1) {
            const next = new Date(Date.parse(`${days[i - 1]}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
            if (next < days[i]) PIVOT = next;
        }
    }
    const filters = [
        ['tag', T1 && `tag:${T1}`],
        ['featured', 'featured:true'],
        ['not featured', 'featured:false'],
        ['tags in', T1 && T2 && `tags:[${T1},${T2}]`],
        ['published after', PIVOT && `published_at:>'${PIVOT}'`],
        ['published before', PIVOT && `published_at:<'${PIVOT}'`],
        ['negated tag value', T1 && `tag:-${T1}`],
        ['tag and featured', T1 && `tag:${T1}+featured:true`],
        ['tag or tag', T1 && T2 && `tag:${T1},tag:${T2}`],
        ['primary_tag', PT && `primary_tag:${PT}`],
        ['primary_tag of an internal tag (never matches)', internal && `primary_tag:${internal.slug}`],
        ['author', A1 && `author:${A1}`],
        ['primary_author', A1 && `primary_author:${A1}`],
        ['authors.slug', A1 && `authors.slug:${A1}`],
        ['tags.slug', T2 && `tags.slug:${T2}`],
        ['slug in', S1 && S2 && `slug:[${S1},${S2}]`],
        ['slug in, answered in the order of the list', S1 && S2 && `slug:[${S2},${S1}]`],
        ['slug not in', S1 && S2 && `slug:-[${S1},${S2}]`],
        ['visibility public', 'visibility:public'],
        ['visibility members or paid', 'visibility:[members,paid]'],
        ['grouped', T1 && T2 && `(tag:${T1},tag:${T2})+featured:false`],
        ['tags not in', T1 && T2 && `tags:-[${T1},${T2}]`],
        ['internal tag', internal && `tag:${internal.slug}`],
        ['unknown tag', 'tag:no-such-tag-frontdesk-check'],
        ['title contains', word && `title:~'${word}'`],
        ['id', first && `id:${first.id}`],
        ['tag list and author', T1 && T2 && A1 && `tag:[${T1},${T2}]+author:${A1}`]
    ];
    for (const [label, filter] of filters) {
        await check(`filter: ${label}${filter ? ` — ${filter}` : ''}`, async () => {
            needContent(filter, 'nothing to build this filter from');
            const q = nql(filter, {expansions: EXPANSIONS});
            const want = slugListOrder(filter, posts.filter(x => q.queryJSON(forNql(x))));
            const got = await api.posts.browse({filter, limit: 'all', include: 'tags,authors'});
            expectEqual(slugs(got), slugs(want), `slugs (NQL over the unfiltered list says ${want.length})`);
            expectEqual(got.meta.pagination.total, want.length, 'meta.pagination.total');
            return `${got.length} match`;
        });
    }
    await check('filter: with pagination (limit 1, page 2)', async () => {
        needContent(T1 && tagFreq.get(T1) >= 2, 'no tag on 2 posts');
        const filter = `tag:${T1}`;
        const q = nql(filter, {expansions: EXPANSIONS});
        const want = posts.filter(x => q.queryJSON(forNql(x)));
        const got = await api.posts.browse({filter, limit: 1, page: 2});
        checkPagination(got.meta, {page: 2, limit: 1, total: want.length, count: got.length}, filter);
        expectEqual(ids(got), [want[1].id], 'the second match');
    });
    await check('filter: on pages, tag', async () => {
        const pt = pages.flatMap(x => x.tags)[0];
        needContent(pt, 'no tagged page');
        const filter = `tag:${pt.slug}`;
        const q = nql(filter, {expansions: EXPANSIONS});
        const got = await api.pages.browse({filter, limit: 'all', include: 'tags,authors'});
        expectEqual(slugs(got), slugs(pages.filter(x => q.queryJSON(forNql(x)))), 'slugs');
    });
    await check('filter: on tags, visibility:internal and slug:[..]', async () => {
        needContent(tags.length >= 1, 'no tags');
        for (const filter of ['visibility:internal', 'visibility:public', `slug:[${tags.slice(0, 2).map(t => t.slug).join(',')}]`]) {
            const q = nql(filter);
            const got = await api.tags.browse({filter, limit: 'all'});
            expectEqual(slugs(got), slugs(tags.filter(t => q.queryJSON(t))), `tags for ${filter}`);
        }
    });
    await check('filter: on authors, slug:[..]', async () => {
        needContent(authors.length >= 1, 'no authors');
        const filter = `slug:[${authors.slice(0, 2).map(a => a.slug).join(',')}]`;
        const got = await api.authors.browse({filter, limit: 'all'});
        expectEqual(slugs(got), slugs(authors.slice(0, 2)), 'authors');
    });
    await check('filter: restricted fields (plaintext, html, authors.email) are dropped from the filter, not applied', async () => {
        needContent(total >= 1, 'no posts');
        for (const filter of ["plaintext:~'e'", 'authors.email:nobody@example.com', "html:~'zzzz-not-there'"]) {
            const got = await api.posts.browse({filter, limit: 'all', fields: 'id'});
            expectEqual(ids(got), ids(posts), `ids for ${filter}`);
        }
        const got = await api.authors.browse({filter: 'email:nobody@example.com', limit: 'all', fields: 'id'});
        expectEqual(ids(got), ids(authors), 'authors for email:nobody@example.com');
    });
    await check('filter: status:draft cannot reveal drafts (status is forced to published)', async () => {
        const got = await api.posts.browse({filter: 'status:draft', limit: 'all', fields: 'id'});
        expectEqual(ids(got), ids(posts), 'ids');
    });

    // --- errors -------------------------------------------------------------------------------------
    await check('error: no key — 403 NoPermissionError', async () => expectRawError(await raw('posts/', {}, {key: null}), 403, 'NoPermissionError'));
    await check('error: no key on settings — 403 NoPermissionError', async () => expectRawError(await raw('settings/', {}, {key: null}), 403, 'NoPermissionError'));
    await check('error: wrong key (26 hex, unknown) — 401 UnauthorizedError', async () => expectClientError(badApi.posts.browse({limit: 1}), 401, 'UnauthorizedError'));
    await check('error: wrong key on settings — 401 UnauthorizedError', async () => expectClientError(badApi.settings.browse(), 401, 'UnauthorizedError'));
    await check("error: malformed filter 'tag:' — 400 BadRequestError", async () => expectClientError(api.posts.browse({filter: 'tag:'}), 400, 'BadRequestError'));
    await check("error: malformed filter '(tag:x' — 400 BadRequestError", async () => expectClientError(api.posts.browse({filter: `(tag:${T1 || 'x'}`}), 400, 'BadRequestError'));
    await check("error: malformed filter 'tag:x+' — 400 BadRequestError", async () => expectClientError(api.posts.browse({filter: `tag:${T1 || 'x'}+`}), 400, 'BadRequestError'));
    await check("error: '-tag:x' is not NQL (negate the value: tag:-x) — 400 BadRequestError", async () => expectClientError(api.posts.browse({filter: `-tag:${T1 || 'x'}`}), 400, 'BadRequestError'));
    await check('error: unknown field in filter — 400 BadRequestError', async () => expectClientError(api.posts.browse({filter: 'nonexistent_field:1'}), 400, 'BadRequestError'));
    await check('error: unknown post id — 404 NotFoundError', async () => expectClientError(api.posts.read({id: 'aaaaaaaaaaaaaaaaaaaaaaaa'}), 404, 'NotFoundError'));
    await check('error: unknown post slug — 404 NotFoundError', async () => expectClientError(api.posts.read({slug: 'no-such-post-frontdesk-check'}), 404, 'NotFoundError'));
    await check('error: unknown tag slug — 404 NotFoundError', async () => expectClientError(api.tags.read({slug: 'no-such-tag-frontdesk-check'}), 404, 'NotFoundError'));
    await check('error: unknown author slug — 404 NotFoundError', async () => expectClientError(api.authors.read({slug: 'no-such-author-frontdesk-check'}), 404, 'NotFoundError'));
    await check("error: unknown format — 422 ValidationError", async () => expectClientError(api.posts.browse({formats: 'nonexistent'}), 422, 'ValidationError'));

    // --- HTTP headers -------------------------------------------------------------------------------
    await check('http: 200 headers (content-type, CORS, cache-control, content-version, vary, etag)', async () => {
        const res = await raw('posts/', {limit: 1, fields: 'slug'});
        expectEqual(res.status, 200, 'status');
        expectEqual(res.headers.get('content-type'), 'application/json; charset=utf-8', 'content-type');
        expectEqual(res.headers.get('access-control-allow-origin'), '*', 'access-control-allow-origin');
        expect(/^public, max-age=\d+$/.test(res.headers.get('cache-control') || ''), `cache-control should be "public, max-age=N" (Ghost: max-age=0): ${res.headers.get('cache-control')}`);
        expect(/^v\d+\.\d+$/.test(res.headers.get('content-version') || ''), `content-version should be vMAJOR.MINOR: ${res.headers.get('content-version')}`);
        expect(/accept-version/i.test(res.headers.get('vary') || ''), `vary should name Accept-Version: ${res.headers.get('vary')}`);
        expect(res.headers.get('etag'), 'no etag');
        return `content-version ${res.headers.get('content-version')}, cache-control ${res.headers.get('cache-control')}, etag ${res.headers.get('etag')}`;
    }, 'headers');
    await check('http: If-None-Match with the ETag answers 304', async () => {
        const a = await raw('posts/', {limit: 1, fields: 'slug'});
        const b = await raw('posts/', {limit: 1, fields: 'slug'}, {headers: {'If-None-Match': a.headers.get('etag')}});
        expectEqual(b.status, 304, 'status');
        expectEqual(b.text, '', 'body');
    }, 'headers');
    await check('http: errors are not cacheable (cache-control has no-store) and are CORS-readable', async () => {
        for (const res of [await raw('posts/', {}, {key: null}), await raw('posts/', {filter: 'tag:'}), await raw('posts/aaaaaaaaaaaaaaaaaaaaaaaa/')]) {
            expect(/no-store/.test(res.headers.get('cache-control') || ''), `${res.status}: cache-control ${res.headers.get('cache-control')}`);
            expectEqual(res.headers.get('access-control-allow-origin'), '*', `${res.status}: access-control-allow-origin`);
        }
    }, 'headers');
    await check('http: CORS preflight (OPTIONS with Accept-Version) answers 204 allowing the headers', async () => {
        const res = await raw('posts/', {limit: 1}, {method: 'OPTIONS', headers: {Origin: 'https://frontend.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'accept-version'}});
        expect(res.status === 204 || res.status === 200, `status ${res.status}`);
        expectEqual(res.headers.get('access-control-allow-origin'), '*', 'access-control-allow-origin');
        expect(/accept-version/i.test(res.headers.get('access-control-allow-headers') || ''), `access-control-allow-headers: ${res.headers.get('access-control-allow-headers')}`);
        expect(/GET/.test(res.headers.get('access-control-allow-methods') || ''), `access-control-allow-methods: ${res.headers.get('access-control-allow-methods')}`);
    }, 'headers');
    await check('http: any Accept-Version (none, v5.0, v4.0) is served the same data', async () => {
        const base = await raw('posts/', {limit: 3, fields: 'id,slug'});
        for (const v of [null, 'v5.0', 'v4.0']) {
            const res = await raw('posts/', {limit: 3, fields: 'id,slug'}, {version: v});
            expectEqual(res.status, 200, `status with Accept-Version ${v}`);
            expectEqual(res.body, base.body, `body with Accept-Version ${v}`);
            expect(/^v\d+\.\d+$/.test(res.headers.get('content-version') || ''), `content-version with Accept-Version ${v}`);
        }
    }, 'headers');

    // --- settings-like browses used by Portal and themes ----------------------------------------------
    await check('tiers: api.tiers.browse()', async () => {
        const got = await api.tiers.browse();
        expect(Array.isArray(got), 'not an array');
        const p = problems();
        got.forEach(t => {
            sameKeys(t, t.type === 'paid' ? PAID_TIER_FIELDS : TIER_FIELDS, `tier ${t.slug}`, p);
            if (!['free', 'paid'].includes(t.type)) p.add(`tier ${t.slug}: type ${t.type}`);
            for (const f of ['created_at', 'updated_at']) if (!UTC_Z_DATE.test(t[f])) p.add(`tier ${t.slug}: ${f} is not a UTC Z date: ${t[f]}`);
        });
        p.done('tiers');
        expect(got.meta && got.meta.pagination, 'no meta.pagination');
        return `${got.length} tiers`;
    }, 'tiers');
    await check('newsletters: api.newsletters.browse()', async () => {
        const got = await api.newsletters.browse();
        expect(Array.isArray(got), 'not an array');
        const p = problems();
        got.forEach(n => sameKeys(n, NEWSLETTER_FIELDS, `newsletter ${n.slug}`, p));
        p.done('newsletters');
        checkPagination(got.meta, {page: 1, limit: 15, count: got.length}, 'newsletters');
        return `${got.length} newsletters`;
    }, 'newsletters');
}

try {
    await main();
} catch (err) {
    failed += 1;
    console.log(`FAIL unexpected error: ${err.stack || err}`);
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
