/**
 * petition-similar.js — "check for similar petitions" while a citizen drafts one.
 *
 * On the new/edit draft page, as the title is typed (debounced, at least 3 characters),
 * GET /api/v1/petitions/similar?q=… and list the matches as links in the
 * aria-live="polite" region #similar-petitions.  Every visible text comes from the
 * region's data-* attributes, rendered in the page's language by the server:
 *
 *   data-similar-url, data-show-url       the API endpoint and the /petitions base URL
 *   data-exclude-id                       the draft's own id (never listed)
 *   data-msg-one|few|many                 "{n} similar petitions already exist — …"
 *                                         (plural forms chosen with Intl.PluralRules)
 *   data-msg-none                         shown when nothing matches
 *   data-state-<state>                    translated state names
 *
 * Without JavaScript the page still works: after saving, the edit page lists the
 * similar petitions server-side.  A classic script (no inline code: strict CSP);
 * only textContent is written, never HTML.
 */
(function () {
  'use strict';

  const MIN_CHARS = 3;
  const DEBOUNCE_MS = 300;

  function pluralMessage(region, n) {
    let category = 'many';
    try {
      category = new Intl.PluralRules(document.documentElement.lang || 'en').select(n);
    } catch (err) {
      category = n === 1 ? 'one' : 'many';
    }
    const key = category === 'one' ? 'msgOne' : category === 'few' ? 'msgFew' : 'msgMany';
    const template = region.dataset[key] || region.dataset.msgMany || '{n}';
    return template.split('{n}').join(String(n));
  }

  function init() {
    const region = document.getElementById('similar-petitions');
    const input = document.getElementById('petition-title');
    if (!region || !input || !window.fetch) return;
    const heading = document.getElementById('similar-h');
    const summary = document.getElementById('similar-summary');
    const list = document.getElementById('similar-list');
    const exclude = region.dataset.excludeId || '';
    const showBase = (region.dataset.showUrl || '/petitions/').replace(/\/?$/, '/');
    let timer = null;
    let controller = null;
    let lastQuery = null;

    function clear() {
      if (heading) heading.hidden = true;
      summary.textContent = '';
      list.replaceChildren();
    }

    function render(items) {
      list.replaceChildren();
      if (!items.length) {
        if (heading) heading.hidden = true;
        summary.textContent = region.dataset.msgNone || '';
        return;
      }
      if (heading) heading.hidden = false;
      summary.textContent = pluralMessage(region, items.length);
      for (const item of items) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = showBase + encodeURIComponent(String(item.id));
        a.textContent = String(item.title);
        li.appendChild(a);
        const state = region.getAttribute('data-state-' + String(item.state)) || String(item.state).replace(/_/g, ' ');
        li.appendChild(document.createTextNode(' — ' + state));
        list.appendChild(li);
      }
    }

    async function search(q) {
      if (controller) controller.abort();
      controller = new AbortController();
      const url = new URL(region.dataset.similarUrl, window.location.href);
      url.searchParams.set('q', q);
      try {
        const response = await fetch(url.toString(), {
          signal: controller.signal, credentials: 'same-origin', headers: { Accept: 'application/json' },
        });
        if (!response.ok) return;
        const body = await response.json();
        if (body.q !== q || input.value.trim() !== q) return; // a stale answer
        const items = (Array.isArray(body.similar) ? body.similar : [])
          .filter((s) => s && String(s.id) !== exclude);
        render(items);
      } catch (err) {
        if (err && err.name === 'AbortError') return;
        // Network trouble: leave the list as it is; saving the draft still works.
      }
    }

    function schedule() {
      const q = input.value.trim();
      if (timer) clearTimeout(timer);
      if (q.length < MIN_CHARS) {
        if (controller) controller.abort();
        lastQuery = null;
        clear();
        return;
      }
      if (q === lastQuery) return;
      timer = setTimeout(() => {
        lastQuery = q;
        search(q);
      }, DEBOUNCE_MS);
    }

    input.addEventListener('input', schedule);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
