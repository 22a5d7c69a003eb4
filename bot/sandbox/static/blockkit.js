// Block Kit and mrkdwn, drawn as Slack draws them, for the sandbox's page.
// window.BlockKit.render(blocks, ctx) returns a DOM node; ctx.onAction(element, blockId)
// is called for a clicked button (after its confirm dialog, if it has one), ctx.people
// maps user IDs to names, and ctx.errors maps an input block's ID to its inline error.
"use strict";

(function () {
  const EMOJI = {
    warning: "⚠️", mag: "🔍", white_check_mark: "✅", x: "❌", hourglass: "⏳", hourglass_flowing_sand: "⏳",
    rocket: "🚀", tada: "🎉", wave: "👋", lock: "🔒", key: "🔑", clock3: "🕒", heavy_check_mark: "✔️",
    no_entry: "⛔", information_source: "ℹ️", bulb: "💡", hammer_and_wrench: "🛠️", wastebasket: "🗑️",
    large_green_circle: "🟢", red_circle: "🔴", white_circle: "⚪", arrows_counterclockwise: "🔄",
    black_circle: "⚫", gear: "⚙️", ok_hand: "👌", raised_hand: "✋", white_square: "⬜", zzz: "💤",
  };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // Slack escapes &, < and > in message text; undo that before escaping for HTML.
  function unslack(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  // <!date^epoch^format|fallback>: the date in the reader's own time zone.
  function formatDate(epoch, format) {
    const d = new Date(epoch * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    const today = new Date();
    const dayDiff = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()) - new Date(today.getFullYear(), today.getMonth(), today.getDate())) / 86400000);
    const relative = { 0: "Today", 1: "Tomorrow", "-1": "Yesterday" }[dayDiff];
    const short = `${MONTHS[d.getMonth()].slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
    const long = `${MONTHS[d.getMonth()]} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
    const tokens = {
      date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
      date: long,
      date_short: short,
      date_long: `${d.toLocaleDateString("en", { weekday: "long" })}, ${long}`,
      date_pretty: relative || long,
      date_short_pretty: relative || short,
      date_long_pretty: relative || `${d.toLocaleDateString("en", { weekday: "long" })}, ${long}`,
      time: `${pad(d.getHours())}:${pad(d.getMinutes())}`,
      time_secs: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
    };
    return format.replace(/\{(\w+)\}/g, (all, name) => tokens[name] || all);
  }

  function mrkdwn(text, ctx) {
    const held = [];
    const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
    let s = String(text);
    s = s.replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre>${escapeHtml(unslack(code))}</pre>`));
    s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${escapeHtml(unslack(code))}</code>`));
    s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(special(inner, ctx)));
    s = escapeHtml(unslack(s));
    s = s.replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, "$1<b>$2</b>");
    s = s.replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<i>$2</i>");
    s = s.replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, "$1<s>$2</s>");
    s = s.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
    s = s.replace(/\n/g, "<br>");
    return s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
  }

  function special(inner, ctx) {
    const [target, label] = splitOnce(inner, "|");
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const name = (ctx.people && ctx.people[id]) || label || id;
      return `<span class="mention" data-user="${escapeHtml(id)}">@${escapeHtml(name)}</span>`;
    }
    if (target.startsWith("#")) return `<span class="mention">#${escapeHtml(label || target.slice(1))}</span>`;
    if (target.startsWith("!date^")) {
      const [, epoch, format] = target.split("^");
      const when = Number(epoch);
      if (!Number.isFinite(when)) return escapeHtml(unslack(label || ""));
      return `<time datetime="${new Date(when * 1000).toISOString()}" title="${escapeHtml(unslack(label || ""))}">${escapeHtml(formatDate(when, format || "{date_short_pretty}"))}</time>`;
    }
    if (target.startsWith("!")) return `<b>@${escapeHtml(target.slice(1).split("^")[0])}</b>`;
    const url = unslack(target);
    if (/^(https?:|mailto:)/i.test(url)) {
      return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(unslack(label || url))}</a>`;
    }
    return escapeHtml(`<${unslack(inner)}>`);
  }

  function splitOnce(text, sep) {
    const i = text.indexOf(sep);
    return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + 1)];
  }

  function textNode(obj, ctx, tag) {
    const el = document.createElement(tag || "span");
    if (!obj) return el;
    if (obj.type === "mrkdwn") el.innerHTML = mrkdwn(obj.text || "", ctx);
    else el.textContent = unslack(String(obj.text || "")).replace(/:([a-z0-9_+-]+):/g, (all, n) => (obj.emoji === false ? all : EMOJI[n] || all));
    return el;
  }

  function confirmFirst(confirm, then) {
    if (!confirm) { then(); return; }
    const layer = document.getElementById("confirm-layer");
    layer.innerHTML = "";
    const dialog = document.createElement("div");
    dialog.className = "dialog confirm-dialog";
    dialog.setAttribute("role", "alertdialog");
    const title = textNode(confirm.title, {}, "h2");
    const body = document.createElement("div");
    body.className = "body";
    body.appendChild(textNode(confirm.text, {}, "div"));
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    const deny = document.createElement("button");
    deny.className = "bk";
    deny.textContent = (confirm.deny && confirm.deny.text) || "Cancel";
    const ok = document.createElement("button");
    ok.className = `bk ${confirm.style === "danger" ? "danger" : "primary"}`;
    ok.textContent = (confirm.confirm && confirm.confirm.text) || "Confirm";
    const close = () => { layer.hidden = true; layer.innerHTML = ""; };
    deny.onclick = close;
    ok.onclick = () => { close(); then(); };
    buttons.append(deny, ok);
    dialog.append(title, body, buttons);
    layer.appendChild(dialog);
    layer.hidden = false;
    ok.focus();
  }

  function element(el, blockId, ctx) {
    if (el.type === "button") {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `bk ${el.style || ""}`.trim();
      b.textContent = unslack(String((el.text && el.text.text) || ""));
      b.dataset.actionId = el.action_id || "";
      b.onclick = () => {
        if (el.url) window.open(el.url, "_blank", "noopener");
        confirmFirst(el.confirm, () => {
          b.disabled = true;
          Promise.resolve(ctx.onAction && ctx.onAction(el, blockId)).finally(() => { b.disabled = false; });
        });
      };
      return b;
    }
    if (el.type === "image") {
      const img = document.createElement("img");
      img.src = el.image_url || "";
      img.alt = el.alt_text || "";
      return img;
    }
    if (el.type === "mrkdwn" || el.type === "plain_text") return textNode(el, ctx);
    const unknown = document.createElement("span");
    unknown.className = "unsupported";
    unknown.textContent = `[element ${el.type} is not drawn by the sandbox]`;
    return unknown;
  }

  function input(block, ctx) {
    const wrap = document.createElement("div");
    wrap.className = "block input-block";
    wrap.dataset.blockId = block.block_id;
    const el = block.element || {};
    const id = `in-${block.block_id}`;
    const label = textNode(block.label, ctx, "label");
    label.htmlFor = id;
    if (block.optional) label.append(" (optional)");
    let control;
    if (el.type === "static_select") {
      control = document.createElement("select");
      const groups = el.option_groups || [{ options: el.options || [] }];
      for (const group of groups) {
        for (const opt of group.options || []) {
          const o = document.createElement("option");
          o.value = opt.value;
          o.textContent = unslack(opt.text.text);
          if (el.initial_option && el.initial_option.value === opt.value) o.selected = true;
          control.appendChild(o);
        }
      }
    } else if (el.type === "plain_text_input") {
      control = document.createElement(el.multiline ? "textarea" : "input");
      if (el.max_length) control.maxLength = el.max_length;
      if (el.initial_value) control.value = el.initial_value;
      if (el.placeholder) control.placeholder = el.placeholder.text;
    } else {
      control = element(el, block.block_id, ctx);
    }
    control.id = id;
    control.dataset.actionId = el.action_id || "";
    control.dataset.kind = el.type || "";
    wrap.append(label, control);
    if (block.hint) wrap.appendChild(Object.assign(textNode(block.hint, ctx, "div"), { className: "hint" }));
    const error = ctx.errors && ctx.errors[block.block_id];
    if (error) {
      wrap.classList.add("has-error");
      const e = document.createElement("div");
      e.className = "error";
      e.textContent = error;
      wrap.appendChild(e);
    }
    return wrap;
  }

  function block(b, ctx) {
    const div = document.createElement("div");
    div.className = `block ${b.type}-block`;
    if (b.block_id) div.dataset.blockId = b.block_id;
    switch (b.type) {
      case "section": {
        const text = document.createElement("div");
        text.className = "text";
        if (b.text) text.appendChild(textNode(b.text, ctx, "div"));
        if (b.fields) {
          const fields = document.createElement("div");
          fields.className = "fields";
          for (const f of b.fields) fields.appendChild(textNode(f, ctx, "div"));
          text.appendChild(fields);
        }
        div.appendChild(text);
        if (b.accessory) div.appendChild(element(b.accessory, b.block_id, ctx));
        return div;
      }
      case "header":
        div.appendChild(textNode(b.text, ctx));
        return div;
      case "divider":
        return Object.assign(document.createElement("hr"), { className: "block divider-block" });
      case "context":
        for (const el of b.elements || []) div.appendChild(element(el, b.block_id, ctx));
        return div;
      case "actions":
        for (const el of b.elements || []) div.appendChild(element(el, b.block_id, ctx));
        return div;
      case "input":
        return input(b, ctx);
      case "image":
        div.appendChild(element({ type: "image", image_url: b.image_url, alt_text: b.alt_text }, b.block_id, ctx));
        return div;
      default:
        div.className = "block unsupported";
        div.textContent = `[block ${b.type} is not drawn by the sandbox]`;
        return div;
    }
  }

  function render(blocks, ctx) {
    const root = document.createElement("div");
    root.className = "blocks";
    for (const b of blocks || []) root.appendChild(block(b, ctx || {}));
    return root;
  }

  // Slack's view.state.values for the inputs drawn under root.
  function stateValues(root) {
    const values = {};
    for (const wrap of root.querySelectorAll(".input-block")) {
      const control = wrap.querySelector("[data-action-id]");
      if (!control) continue;
      const entry = { type: control.dataset.kind };
      if (control.dataset.kind === "static_select") {
        const opt = control.selectedOptions[0];
        entry.selected_option = opt ? { text: { type: "plain_text", text: opt.textContent }, value: opt.value } : null;
      } else {
        entry.value = control.value === "" ? null : control.value;
      }
      values[wrap.dataset.blockId] = { [control.dataset.actionId]: entry };
    }
    return values;
  }

  window.BlockKit = { render, mrkdwn, stateValues, textNode, formatDate };
})();
