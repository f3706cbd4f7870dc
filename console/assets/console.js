// The AT Queue web console: the registry's components with their liveness (live, over
// server-sent events), each component's methods with a form generated from the JSON
// Schema of their inputs, and the calls made through POST api/exec_method.
//
// Plain JavaScript that the browser runs as it is: no framework, no build step, nothing
// fetched from elsewhere. URLs are relative, so the console also works behind a proxy
// that serves it under a prefix.
'use strict';
(() => {
  // ---- labels, in English and Russian -------------------------------------------------
  const LABELS = {
    en: {
      title: 'AT Queue console', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…',
      noRegistry: 'the registry does not answer', token: 'Auth token',
      tokenHint: 'Sent as auth_token with every call made from this page',
      components: 'Components', filter: 'filter', showTools: 'inspectors and atq',
      name: 'Name', state: 'State', methods: 'Methods', since: 'Registered',
      alive: 'alive', dead: 'not alive', unknown: 'unknown', lastSeen: 'last seen {0}',
      empty: 'No components.', pick: 'Choose a component to see its methods.',
      noLiveness: 'This registry does not report liveness or registration times (python -m at_queue?).',
      gone: 'Component {0} is no longer registered.',
      noDescription: 'No description.', session: 'session', consumers: 'consumers', registered: 'registered',
      language: 'Go component', deadWarning: 'This component is not alive: calls fail until it is back.',
      noMethods: 'This component has no methods.', noInputs: 'No arguments.',
      call: 'Call', calling: 'Calling…', result: 'Result', error: 'Error',
      required: 'required', optional: 'optional', default: 'default {0}', nullLabel: 'null',
      add: '+ item', remove: '×', removeTitle: 'Remove this item',
      rawJSON: 'JSON; text that is not JSON is sent as a string', notJSON: 'not valid JSON',
      invalidArgs: 'Invalid arguments', took: '{0} ms',
      httpFailed: 'The console server answered HTTP {0}', unreachable: 'The console server does not answer: {0}',
      calls: 'Calls', callTime: 'Time', callFrom: 'From', callTo: 'To', callMethod: 'Method',
      callTook: 'Took', callOutcome: 'Outcome', ok: 'ok',
    },
    ru: {
      title: 'Консоль AT Queue', connecting: 'подключение…', live: 'на связи', reconnecting: 'переподключение…',
      noRegistry: 'реестр не отвечает', token: 'Токен авторизации',
      tokenHint: 'Передаётся как auth_token при каждом вызове с этой страницы',
      components: 'Компоненты', filter: 'фильтр', showTools: 'инспекторы и atq',
      name: 'Имя', state: 'Состояние', methods: 'Методы', since: 'Регистрация',
      alive: 'работает', dead: 'не отвечает', unknown: 'неизвестно', lastSeen: 'последний раз {0}',
      empty: 'Компонентов нет.', pick: 'Выберите компонент, чтобы увидеть его методы.',
      noLiveness: 'Этот реестр не сообщает, живы ли компоненты и когда они зарегистрированы (python -m at_queue?).',
      gone: 'Компонент {0} больше не зарегистрирован.',
      noDescription: 'Нет описания.', session: 'сессия', consumers: 'потребители', registered: 'зарегистрирован',
      language: 'компонент на Go', deadWarning: 'Компонент не отвечает: вызовы завершатся ошибкой, пока он не вернётся.',
      noMethods: 'У компонента нет методов.', noInputs: 'Без аргументов.',
      call: 'Вызвать', calling: 'Вызов…', result: 'Результат', error: 'Ошибка',
      required: 'обязательный', optional: 'необязательный', default: 'по умолчанию {0}', nullLabel: 'null',
      add: '+ элемент', remove: '×', removeTitle: 'Удалить этот элемент',
      rawJSON: 'JSON; текст, который не является JSON, отправляется строкой', notJSON: 'это не JSON',
      invalidArgs: 'Неверные аргументы', took: '{0} мс',
      httpFailed: 'Сервер консоли ответил HTTP {0}', unreachable: 'Сервер консоли не отвечает: {0}',
      calls: 'Вызовы', callTime: 'Время', callFrom: 'От', callTo: 'Кому', callMethod: 'Метод',
      callTook: 'Длительность', callOutcome: 'Итог', ok: 'успешно',
    },
  };

  const stored = (k) => { try { return localStorage.getItem(k); } catch { return null; } };
  const store = (k, v) => { try { localStorage.setItem(k, v); } catch { /* private mode */ } };
  const pickLang = () => {
    const q = new URLSearchParams(location.search).get('lang');
    const want = q || stored('atq.lang') || navigator.language || 'en';
    return want.toLowerCase().startsWith('ru') ? 'ru' : 'en';
  };
  let lang = pickLang();

  const t = (key, args) => {
    let s = (LABELS[lang] && LABELS[lang][key]) || LABELS.en[key] || key;
    (args || []).forEach((a, i) => { s = s.replace('{' + i + '}', a); });
    return s;
  };

  // el builds an element: attributes (on* are listeners, i18n keys are labels that follow
  // the language) and children (strings become text).
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'i18n') {
        e.dataset.i18n = Array.isArray(v) ? v[0] : v;
        if (Array.isArray(v) && v[1]) e.dataset.i18nArgs = JSON.stringify(v[1]);
      }
      else if (k === 'i18nTitle') e.dataset.i18nTitle = v;
      else if (k === 'i18nPlaceholder') e.dataset.i18nPlaceholder = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (v === true) e.setAttribute(k, '');
      else e.setAttribute(k, v);
    }
    for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(c);
    if (e.dataset.i18n || e.dataset.i18nTitle || e.dataset.i18nPlaceholder) translate(e);
    return e;
  };
  // tx is a span whose text is the label key (with arguments) in the current language.
  const tx = (key, args) => el('span', { i18n: [key, args] });

  const translate = (e) => {
    if (e.dataset.i18n) e.textContent = t(e.dataset.i18n, e.dataset.i18nArgs ? JSON.parse(e.dataset.i18nArgs) : []);
    if (e.dataset.i18nTitle) e.title = t(e.dataset.i18nTitle);
    if (e.dataset.i18nPlaceholder) e.placeholder = t(e.dataset.i18nPlaceholder);
  };

  const setLang = (l) => {
    lang = l;
    store('atq.lang', l);
    document.documentElement.lang = l;
    document.querySelectorAll('[data-i18n],[data-i18n-title],[data-i18n-placeholder]').forEach(translate);
    document.querySelectorAll('.lang button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.lang === l)));
    refreshTimes();
  };

  // ---- times --------------------------------------------------------------------------
  const ago = (iso) => {
    const d = new Date(iso);
    if (!iso || isNaN(d)) return '';
    const s = Math.round((d.getTime() - Date.now()) / 1000);
    const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
    const abs = Math.abs(s);
    if (abs < 60) return rtf.format(s, 'second');
    if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
    if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
    return rtf.format(Math.round(s / 86400), 'day');
  };
  const when = (iso) => {
    const d = new Date(iso);
    return !iso || isNaN(d) ? '' : d.toLocaleString(lang);
  };
  // A time element shows how long ago, with the date as its title; refreshTimes updates
  // them all (on a timer, and when the language changes).
  const timeEl = (iso, key) => el('time', { datetime: iso, dataset: { ago: key || '' } });
  const refreshTimes = () => {
    document.querySelectorAll('time[datetime]').forEach((e) => {
      const iso = e.getAttribute('datetime');
      e.textContent = e.dataset.ago ? t(e.dataset.ago, [ago(iso)]) : ago(iso);
      e.title = when(iso);
    });
  };

  // ---- JSON Schema → readable types ---------------------------------------------------
  // normalize folds the shapes pydantic gives optional and defaulted fields into one
  // schema: anyOf/oneOf with {"type": "null"} (v2's Optional), allOf with one entry (v1's
  // field of a model or enum type with a default), "type": [T, "null"].
  const normalize = (schema) => {
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return { s: {}, nullable: false };
    let s = schema;
    let nullable = false;
    const outer = (inner) => {
      const { anyOf, oneOf, allOf, ...rest } = s; // eslint-disable-line no-unused-vars
      const merged = { ...inner, ...rest };
      if (!('title' in rest) && inner.title) merged.title = inner.title;
      return merged;
    };
    if (Array.isArray(s.allOf) && s.allOf.length === 1 && s.allOf[0] && typeof s.allOf[0] === 'object') s = outer(s.allOf[0]);
    const alts = s.anyOf || s.oneOf;
    if (Array.isArray(alts)) {
      const others = alts.filter((a) => !(a && a.type === 'null'));
      if (others.length < alts.length) nullable = true;
      if (others.length === 1 && others[0] && typeof others[0] === 'object') s = outer(others[0]);
      else if (others.length === 0) s = { ...outer({}), type: 'null' };
    }
    if (Array.isArray(s.type)) {
      const types = s.type.filter((x) => x !== 'null');
      if (types.length < s.type.length) nullable = true;
      if (types.length === 1) s = { ...s, type: types[0] };
    }
    return { s, nullable };
  };

  const kindOf = (s) => {
    if (Array.isArray(s.enum) && s.enum.length > 0) return 'enum';
    if (s.type === 'boolean') return 'boolean';
    if (s.type === 'integer' || s.type === 'number') return 'number';
    if (s.type === 'string') return 'string';
    if (s.type === 'object' && s.properties && typeof s.properties === 'object') return 'object';
    if (s.type === 'array' && s.items && typeof s.items === 'object' && !Array.isArray(s.items)) return 'array';
    return 'json';
  };

  const typeText = (schema, depth) => {
    const { s, nullable } = normalize(schema);
    const d = depth || 0;
    let text;
    const alts = s.anyOf || s.oneOf;
    if (Array.isArray(s.enum)) text = s.enum.map((v) => JSON.stringify(v)).join(' | ');
    else if (Array.isArray(alts)) text = alts.map((a) => typeText(a, d + 1)).join(' | ');
    else if (s.type === 'array') text = 'array of ' + (s.items && d < 3 ? typeText(s.items, d + 1) : 'any');
    else if (s.type === 'object' && s.title && s.properties) text = s.title;
    else if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') text = 'object of ' + typeText(s.additionalProperties, d + 1);
    else if (typeof s.type === 'string') text = s.type + (s.format ? ' (' + s.format + ')' : '');
    else if (Array.isArray(s.type)) text = s.type.join(' | ');
    else text = 'any';
    return nullable ? text + ' | null' : text;
  };

  const signature = (name, m) => {
    const inputs = Object.values(m.inputs || {});
    const args = inputs.map((i) => {
      const def = i.schema && typeof i.schema === 'object' && 'default' in i.schema ? ' = ' + JSON.stringify(i.schema.default) : '';
      return i.name + (i.required ? '' : '?') + ': ' + typeText(i.schema) + def;
    });
    const out = m.output && m.output.schema !== undefined && m.output.schema !== null ? typeText(m.output.schema) : 'any';
    return name + '(' + args.join(', ') + ') → ' + out;
  };

  // ---- forms generated from JSON Schema -----------------------------------------------
  // A field is {node, path, get()}: get returns the value to send, or undefined to leave
  // the argument out (an optional field left empty). Paths are pydantic's loc joined by
  // dots, so that an error's loc finds its field.
  const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

  // An array's items are fields too (item true): they have no required/optional label.
  const field = (schema, path, name, required, description, item) => {
    const { s, nullable } = normalize(schema);
    const kind = kindOf(s);
    const wrap = el('div', { class: 'field', dataset: { path, kind } });
    const hasDefault = 'default' in s;
    const label = el('label', null,
      el('span', { class: 'fname' }, name),
      el('span', { class: 'ftype' }, typeText(schema)),
      item ? null : el('span', { class: 'freq', i18n: required ? 'required' : 'optional' }),
      hasDefault ? el('span', { class: 'freq', i18n: ['default', [JSON.stringify(s.default)]] }) : null);
    // pydantic v1 describes every enum so; it says nothing.
    const desc = description || (s.description === 'An enumeration.' ? '' : s.description);
    let control;
    let get;
    const inputId = 'f-' + Math.random().toString(36).slice(2);
    label.htmlFor = inputId;

    switch (kind) {
      case 'number': {
        const input = el('input', { type: 'text', id: inputId, inputmode: s.type === 'integer' ? 'numeric' : 'decimal', autocomplete: 'off', spellcheck: 'false', placeholder: hasDefault ? JSON.stringify(s.default) : s.type });
        control = input;
        // Numbers go as numbers; anything else goes as typed, for the component to judge.
        get = () => {
          const v = input.value.trim();
          if (v === '') return undefined;
          return NUMBER.test(v) ? Number(v) : v;
        };
        break;
      }
      case 'string': {
        const input = el('input', { type: 'text', id: inputId, autocomplete: 'off', spellcheck: 'false', placeholder: hasDefault ? String(s.default) : (s.format || '') });
        control = input;
        get = () => (input.value === '' && !required ? undefined : input.value);
        break;
      }
      case 'boolean': {
        if (required && !nullable) {
          const input = el('input', { type: 'checkbox', id: inputId });
          if (s.default === true) input.checked = true;
          control = input;
          get = () => input.checked;
        } else {
          const sel = el('select', { id: inputId }, el('option', { value: '' }, '—'), el('option', { value: 'true' }, 'true'), el('option', { value: 'false' }, 'false'));
          control = sel;
          get = () => (sel.value === '' ? undefined : sel.value === 'true');
        }
        break;
      }
      case 'enum': {
        const sel = el('select', { id: inputId });
        if (!required || hasDefault) sel.append(el('option', { value: '' }, '—'));
        for (const v of s.enum) sel.append(el('option', { value: JSON.stringify(v) }, typeof v === 'string' ? v : JSON.stringify(v)));
        control = sel;
        get = () => (sel.value === '' ? undefined : JSON.parse(sel.value));
        break;
      }
      case 'object': {
        const req = new Set(Array.isArray(s.required) ? s.required : []);
        const children = Object.entries(s.properties).map(([k, sub]) => field(sub, path + '.' + k, k, req.has(k), null));
        control = el('fieldset', { class: 'object' }, s.title ? el('legend', null, s.title) : null, children.map((c) => c.node));
        get = () => {
          const o = {};
          for (const c of children) {
            const v = c.get();
            if (v !== undefined) o[c.name] = v;
          }
          return Object.keys(o).length === 0 && !required ? undefined : o;
        };
        break;
      }
      case 'array': {
        const items = [];
        const list = el('div', { class: 'items' });
        const addItem = () => {
          const i = items.length;
          const f = field(s.items, path + '.' + i, '[' + i + ']', true, null, true);
          const row = el('div', { class: 'item' }, f.node,
            el('button', { type: 'button', class: 'small', i18n: 'remove', i18nTitle: 'removeTitle', onclick: () => {
              items.splice(items.indexOf(f), 1);
              row.remove();
              renumber();
            } }));
          f.row = row;
          items.push(f);
          list.append(row);
        };
        // Items keep pydantic's loc (the index) in their path as items come and go.
        const renumber = () => items.forEach((f, i) => {
          const old = f.path;
          f.node.querySelectorAll('[data-path]').forEach((n) => { n.dataset.path = path + '.' + i + n.dataset.path.slice(old.length); });
          f.node.dataset.path = path + '.' + i;
          f.path = path + '.' + i;
          f.node.querySelector('.fname').textContent = '[' + i + ']';
        });
        control = el('fieldset', { class: 'array' }, list,
          el('div', null, el('button', { type: 'button', class: 'small add', i18n: 'add', onclick: addItem })));
        get = () => {
          const out = [];
          for (const f of items) {
            const v = f.get();
            out.push(v === undefined ? null : v);
          }
          return out.length === 0 && !required ? undefined : out;
        };
        break;
      }
      default: {
        const area = el('textarea', { id: inputId, spellcheck: 'false', i18nPlaceholder: 'rawJSON' });
        if (hasDefault) area.value = JSON.stringify(s.default);
        control = area;
        // JSON where it parses, else the text as a string (as atq call does).
        get = () => {
          const v = area.value.trim();
          if (v === '') return undefined;
          try { return JSON.parse(v); } catch { return area.value; }
        };
      }
    }

    const row = el('div', { class: 'control' }, control);
    if (nullable) {
      const box = el('input', { type: 'checkbox', class: 'null' });
      box.addEventListener('change', () => {
        control.querySelectorAll('input,select,textarea,button').forEach((c) => { c.disabled = box.checked; });
        if ('disabled' in control) control.disabled = box.checked;
      });
      row.append(el('label', { class: 'nullbox' }, box, tx('nullLabel')));
      const inner = get;
      get = () => (box.checked ? null : inner());
    }
    wrap.append(label, row);
    if (desc) wrap.append(el('div', { class: 'fdesc' }, desc));
    wrap.append(el('div', { class: 'field-error', hidden: true }));
    return { node: wrap, path, name, get };
  };

  // ---- errors -------------------------------------------------------------------------
  // issuesOf reads the pydantic error list of a MethodArgumentSchemaException (v1 or v2:
  // both have loc and msg), or null for any other error object.
  const issuesOf = (item) => {
    if (!item || typeof item !== 'object' || typeof item.error_message !== 'string') return null;
    try {
      const list = JSON.parse(item.error_message);
      if (Array.isArray(list) && list.every((x) => x && Array.isArray(x.loc))) return list;
    } catch { /* not a list */ }
    return null;
  };

  const itemText = (item) => {
    if (typeof item === 'string') return item;
    if (!item || typeof item !== 'object') return JSON.stringify(item);
    const issues = issuesOf(item);
    if (issues) return issues.map((i) => i.loc.join('.') + ': ' + i.msg).join('; ');
    const type = item.error_type ? item.error_type + ': ' : '';
    return type + (item.error_message !== undefined ? String(item.error_message) : JSON.stringify(item));
  };

  // ---- calling a method ---------------------------------------------------------------
  const clearErrors = (form) => {
    form.querySelectorAll('.field.invalid').forEach((f) => f.classList.remove('invalid'));
    form.querySelectorAll('.field-error').forEach((e) => { e.hidden = true; e.textContent = ''; });
  };

  // markIssue shows msg on the field of loc, or on the nearest enclosing field that
  // exists; false when no field matches.
  const markIssue = (form, loc, msg) => {
    const parts = loc.map(String);
    for (let n = parts.length; n > 0; n--) {
      const path = parts.slice(0, n).join('.');
      const f = [...form.querySelectorAll('.field[data-path]')].find((x) => x.dataset.path === path);
      if (!f) continue;
      f.classList.add('invalid');
      const box = f.querySelector(':scope > .field-error');
      const rest = parts.slice(n).join('.');
      box.textContent = (box.textContent ? box.textContent + '; ' : '') + (rest ? rest + ': ' : '') + msg;
      box.hidden = false;
      return true;
    }
    return false;
  };

  const showResult = (box, state, labelKey, text) => {
    box.hidden = false;
    box.dataset.state = state;
    box.replaceChildren(el('div', { class: 'rlabel', i18n: labelKey }), el('pre', null, text));
  };

  const callMethod = async (comp, method, fields, form, box, button) => {
    clearErrors(form);
    const kwargs = {};
    for (const f of fields) {
      const v = f.get();
      if (v !== undefined) kwargs[f.name] = v;
    }
    const token = document.getElementById('token').value;
    const body = { component: comp, method, kwargs, auth_token: token === '' ? null : token };
    button.disabled = true;
    const label = button.dataset.i18n;
    button.dataset.i18n = 'calling';
    translate(button);
    const started = performance.now();
    try {
      const resp = await fetch('api/exec_method', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      let answer = null;
      try { answer = await resp.json(); } catch { /* not JSON */ }
      const took = Math.round(performance.now() - started);
      box.dataset.took = String(took);
      if (resp.ok && answer && 'result' in answer) {
        showResult(box, 'ok', 'result', JSON.stringify(answer.result, null, 2));
        return;
      }
      showResult(box, 'error', 'error', describeFailure(resp.status, answer, form));
    } catch (err) {
      showResult(box, 'error', 'error', t('unreachable', [err.message]));
    } finally {
      button.disabled = false;
      button.dataset.i18n = label;
      translate(button);
    }
  };

  // describeFailure marks the failing fields and returns the text to show: the remote
  // error objects of a 500 (one line each), the message of a 502/503/504, FastAPI's 422.
  const describeFailure = (status, answer, form) => {
    const detail = answer && answer.detail;
    if (detail && typeof detail === 'object' && !Array.isArray(detail)) {
      const items = detail.message && Array.isArray(detail.message.errors) ? detail.message.errors : null;
      if (!items) return String(detail.error_message || JSON.stringify(detail));
      const lines = [];
      for (const item of items) {
        const issues = issuesOf(item);
        if (issues) {
          issues.forEach((i) => markIssue(form, i.loc, i.msg));
          lines.push(t('invalidArgs') + ': ' + itemText(item));
        } else lines.push(itemText(item));
      }
      return lines.join('\n');
    }
    if (Array.isArray(detail)) return detail.map((d) => (d.loc || []).join('.') + ': ' + d.msg).join('\n');
    if (typeof detail === 'string') return detail;
    return t('httpFailed', [status]);
  };

  // ---- the component list -------------------------------------------------------------
  const state = { view: null, selected: null, shown: null, problem: null };
  const isTool = (name) => name.startsWith('inspector-') || name.startsWith('atq-');

  const aliveCell = (c) => {
    const a = c.alive === true ? 'true' : c.alive === false ? 'false' : 'unknown';
    const s = el('span', { class: 'state', dataset: { alive: a } }, el('span', { class: 'dot' }),
      tx(a === 'true' ? 'alive' : a === 'false' ? 'dead' : 'unknown'));
    const cell = el('span', null, s);
    if (c.alive === false && c.last_alive) cell.append(el('span', { class: 'seen' }, timeEl(c.last_alive, 'lastSeen')));
    return cell;
  };

  const renderList = () => {
    const tbody = document.querySelector('#list tbody');
    const v = state.view;
    if (!v) return;
    const q = document.getElementById('filter').value.trim().toLowerCase();
    const tools = document.getElementById('show-tools').checked;
    const rows = v.components.filter((c) => (tools || !isTool(c.name) || c.name === state.selected) && (!q || c.name.toLowerCase().includes(q)));
    tbody.replaceChildren(...rows.map((c) => el('tr', {
      dataset: { name: c.name, alive: String(c.alive) }, class: isTool(c.name) ? 'tool' : null,
      'aria-selected': String(c.name === state.selected), onclick: () => select(c.name),
    },
    el('td', null, el('span', { class: 'name' }, c.name), c.go ? el('span', { class: 'badge', i18nTitle: 'language' }, 'Go') : null),
    el('td', null, aliveCell(c)),
    el('td', { class: 'num' }, String(c.methods)),
    el('td', { class: 'when' }, c.registered_at ? timeEl(c.registered_at) : el('span', { class: 'muted' }, '—')))));
    document.getElementById('empty').hidden = rows.length > 0;
    const notice = document.getElementById('notice');
    notice.hidden = v.liveness;
    if (!v.liveness) { notice.dataset.i18n = 'noLiveness'; translate(notice); }
    refreshTimes();
  };

  const select = (name) => {
    state.selected = name;
    if (location.hash !== '#' + encodeURIComponent(name)) history.replaceState(null, '', '#' + encodeURIComponent(name));
    renderList();
    renderDetail();
  };

  // ---- the selected component ---------------------------------------------------------
  // The detail is built again only when the component's registration changes, so that
  // what was typed in its forms survives the updates of the list.
  const renderDetail = () => {
    const box = document.getElementById('detail');
    const v = state.view;
    const c = v && state.selected ? v.components.find((x) => x.name === state.selected) : null;
    if (!c) {
      state.shown = null;
      box.replaceChildren(state.selected ? el('p', { class: 'muted', i18n: ['gone', [state.selected]] }) : el('p', { class: 'muted', i18n: 'pick' }));
      return;
    }
    const key = JSON.stringify([c.name, c.session_id, c.registered_at, c.description]);
    if (state.shown === key) {
      updateDetailState(box, c);
      return;
    }
    state.shown = key;
    const d = c.description || {};
    const methods = d.methods && typeof d.methods === 'object' ? Object.entries(d.methods) : [];
    box.replaceChildren(...[
      el('div', { class: 'detail-head' }, el('h2', null, c.name), el('span', { class: 'alive-slot' }, aliveCell(c))),
      el('div', { class: 'meta' },
        el('span', null, tx('session'), ' ', el('code', null, c.session_id)),
        c.registered_at ? el('span', null, tx('registered'), ' ', timeEl(c.registered_at)) : null,
        c.consumers !== undefined && c.consumers !== null && c.consumers >= 0 ? el('span', { class: 'consumers' }, tx('consumers'), ' ' + c.consumers) : null),
      el('p', { class: 'dead-warning warn', i18n: 'deadWarning', hidden: c.alive !== false }),
      d.description ? el('p', { class: 'description' }, d.description) : el('p', { class: 'description muted', i18n: 'noDescription' }),
      methods.length ? methods.map(([name, m]) => methodCard(c.name, name, m || {})) : el('p', { class: 'muted', i18n: 'noMethods' }),
    ].flat().filter((x) => x));
    refreshTimes();
  };

  const updateDetailState = (box, c) => {
    const slot = box.querySelector('.alive-slot');
    if (slot) slot.replaceChildren(aliveCell(c));
    const warn = box.querySelector('.dead-warning');
    if (warn) warn.hidden = c.alive !== false;
    refreshTimes();
  };

  const methodCard = (comp, name, m) => {
    const inputs = m.inputs && typeof m.inputs === 'object' ? Object.entries(m.inputs) : [];
    const fields = inputs.map(([k, i]) => field(i && i.schema, k, k, !!(i && i.required), i && i.description));
    const result = el('div', { class: 'result', hidden: true });
    const button = el('button', { type: 'submit', i18n: 'call' });
    const form = el('form', { class: 'method', dataset: { method: name }, novalidate: true },
      el('h3', null, name),
      el('div', { class: 'signature' }, signature(name, m)),
      m.description ? el('div', { class: 'fdesc' }, m.description) : null,
      fields.length ? el('div', { class: 'fields' }, fields.map((f) => f.node)) : el('p', { class: 'muted', i18n: 'noInputs' }),
      el('div', { class: 'actions' }, button),
      result);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      callMethod(comp, name, fields, form, result, button);
    });
    return form;
  };

  // ---- live updates -------------------------------------------------------------------
  const setStatus = (s, key) => {
    const st = document.getElementById('status');
    st.dataset.state = s;
    const text = document.getElementById('status-text');
    text.dataset.i18n = key;
    translate(text);
  };

  const listen = (streams) => {
    const es = new EventSource(streams.directory || 'api/events');
    es.addEventListener('directory', (e) => {
      state.view = JSON.parse(e.data);
      setStatus('live', 'live');
      renderList();
      renderDetail();
    });
    es.addEventListener('problem', () => setStatus('problem', 'noRegistry'));
    es.addEventListener('error', () => setStatus('down', 'reconnecting'));
    if (streams.calls) listenCalls(streams.calls);
  };

  // The calls panel shows the stream the server names in api/console (none yet): one
  // row per "call" event, with whichever of these fields the event carries.
  const listenCalls = (path) => {
    document.getElementById('calls').hidden = false;
    const tbody = document.querySelector('#call-log tbody');
    const es = new EventSource(path);
    es.addEventListener('call', (e) => {
      let c;
      try { c = JSON.parse(e.data); } catch { return; }
      const outcome = c.error ? String(c.error) : t('ok');
      tbody.prepend(el('tr', { class: c.error ? 'failed' : null },
        el('td', null, c.at ? new Date(c.at).toLocaleTimeString(lang) : ''),
        el('td', { class: 'name' }, c.from || ''), el('td', { class: 'name' }, c.to || ''),
        el('td', { class: 'name' }, c.method || c.type || ''),
        el('td', { class: 'num' }, c.ms !== undefined ? String(c.ms) : ''),
        el('td', null, outcome)));
      while (tbody.rows.length > 200) tbody.deleteRow(-1);
    });
  };

  // ---- start --------------------------------------------------------------------------
  const start = async () => {
    document.querySelectorAll('.lang button').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
    const token = document.getElementById('token');
    try { token.value = sessionStorage.getItem('atq.token') || ''; } catch { /* private mode */ }
    token.addEventListener('input', () => { try { sessionStorage.setItem('atq.token', token.value); } catch { /* private mode */ } });
    document.getElementById('filter').addEventListener('input', renderList);
    const tools = document.getElementById('show-tools');
    tools.checked = stored('atq.tools') === 'true';
    tools.addEventListener('change', () => { store('atq.tools', String(tools.checked)); renderList(); });
    if (location.hash.length > 1) state.selected = decodeURIComponent(location.hash.slice(1));
    setLang(lang);
    setInterval(refreshTimes, 15000);
    let streams = { directory: 'api/events' };
    try {
      const resp = await fetch('api/console');
      if (resp.ok) streams = (await resp.json()).streams || streams;
    } catch { /* the event stream says more */ }
    listen(streams);
  };
  start();
})();
