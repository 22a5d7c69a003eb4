// The sandbox's page: a Slack-like workspace drawn from the emulator's feed of changes
// (Server-Sent Events from /sandbox/feed), acting through /sandbox/* as the chosen person.
"use strict";

(function () {
  const state = {
    bot: "UBOT",
    people: {},          // id -> {id, name, role}
    channels: [],        // [{id, name, members}]
    me: "",
    current: "CGENERAL", // a channel ID, "dm" or "home"
    messages: new Map(), // "channel ts" -> {message, order, edited}
    order: 0,
    homes: {},           // user -> view
    modals: {},          // user -> view
    modalErrors: {},
    seen: {},            // "user conversation" -> number of messages read
  };
  const $ = (id) => document.getElementById(id);

  const dmOf = (user) => "D" + user.replace(/^[UW]/, "");
  const conversationId = (key) => (key === "dm" ? dmOf(state.me) : key);
  const names = () => Object.fromEntries(Object.values(state.people).map((p) => [p.id, p.name]).concat([[state.bot, "jupyterhub"]]));

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: state.me, ...body }),
    });
    return response.ok ? response.json() : { ok: false, error: await response.text() };
  }

  function visible(message, user) {
    return !message.visible_to || message.visible_to === user;
  }

  function inConversation(key, user) {
    const id = key === "dm" ? dmOf(user) : key;
    return [...state.messages.values()]
      .filter((m) => m.message.channel === id && visible(m.message, user))
      .sort((a, b) => a.order - b.order);
  }

  function canSee(channel) {
    return channel.members.includes(state.me);
  }

  // -- drawing ---------------------------------------------------------------------------

  function drawSidebar() {
    const list = $("channels");
    list.innerHTML = "";
    for (const channel of state.channels.filter(canSee)) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.conversation = channel.id;
      b.textContent = `# ${channel.name}`;
      li.appendChild(b);
      list.appendChild(li);
    }
    for (const b of document.querySelectorAll("#sidebar [data-conversation]")) {
      const key = b.dataset.conversation;
      b.classList.toggle("current", key === state.current);
      b.onclick = () => open(key);
      b.querySelector(".badge")?.remove();
      if (key !== "home" && key !== state.current) {
        const unread = inConversation(key, state.me).length - (state.seen[`${state.me} ${key}`] || 0);
        if (unread > 0) {
          const badge = document.createElement("span");
          badge.className = "badge";
          badge.textContent = unread;
          b.appendChild(badge);
        }
      }
    }
  }

  function drawTitle() {
    const channel = state.channels.find((c) => c.id === state.current);
    const title = $("title");
    if (channel) title.innerHTML = `# ${channel.name}<small>${channel.members.length} members</small>`;
    else if (state.current === "dm") title.innerHTML = "jupyterhub<small>Messages: the bot's direct messages to you</small>";
    else title.innerHTML = "jupyterhub<small>Home</small>";
    const input = $("compose");
    input.placeholder = channel ? `Message #${channel.name}; try /jupyterhub help` : "Message jupyterhub; try /jupyterhub list";
  }

  function drawMessages() {
    const box = $("messages");
    const home = $("home");
    const isHome = state.current === "home";
    box.hidden = isHome;
    home.hidden = !isHome;
    $("composer").hidden = isHome;
    if (isHome) return drawHome();
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 40;
    box.innerHTML = "";
    const shown = inConversation(state.current, state.me);
    state.seen[`${state.me} ${state.current}`] = shown.length;
    if (!shown.length) box.innerHTML = '<div class="empty">Nothing here yet.</div>';
    for (const entry of shown) box.appendChild(drawMessage(entry));
    if (atBottom || shown.length) box.scrollTop = box.scrollHeight;
  }

  function drawMessage(entry) {
    const m = entry.message;
    const fromBot = m.author === state.bot;
    const div = document.createElement("div");
    div.className = `message${fromBot ? " bot" : ""}${m.visible_to ? " ephemeral" : ""}${entry.edited ? " updated" : ""}`;
    div.dataset.ts = m.ts;
    div.dataset.channel = m.channel;
    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.textContent = fromBot ? "J" : (state.people[m.author]?.name || "?")[0];
    const content = document.createElement("div");
    if (m.visible_to) {
      const only = document.createElement("div");
      only.className = "only-you";
      only.textContent = "Only visible to you";
      content.appendChild(only);
    }
    const meta = document.createElement("div");
    meta.className = "meta";
    const when = new Date(Number(m.ts.split(".")[0]) * 1000);
    meta.innerHTML = `<b>${fromBot ? "jupyterhub" : escape(state.people[m.author]?.name || m.author)}</b>${fromBot ? '<span class="app-tag">APP</span>' : ""}${when.toTimeString().slice(0, 5)}`;
    content.appendChild(meta);
    const ctx = { people: names(), onAction: (el, blockId) => click({ channel: m.channel, ts: m.ts }, el, blockId) };
    if (m.blocks && m.blocks.length) content.appendChild(BlockKit.render(m.blocks, ctx));
    else {
      const text = document.createElement("div");
      text.className = m.author === state.me && m.text.startsWith("/") ? "typed" : "";
      text.innerHTML = BlockKit.mrkdwn(m.text, ctx);
      content.appendChild(text);
    }
    div.append(avatar, content);
    return div;
  }

  function drawHome() {
    const home = $("home");
    home.innerHTML = "";
    const view = state.homes[state.me];
    if (!view) {
      home.innerHTML = '<div class="empty">Opening the App Home…</div>';
      return;
    }
    home.appendChild(BlockKit.render(view.blocks, { people: names(), onAction: (el, blockId) => click({ view_id: view.id }, el, blockId) }));
  }

  function drawModal() {
    const layer = $("modal-layer");
    const view = state.modals[state.me];
    if (!view) {
      layer.hidden = true;
      layer.innerHTML = "";
      return;
    }
    layer.innerHTML = "";
    const dialog = document.createElement("form");
    dialog.className = "dialog modal";
    dialog.appendChild(BlockKit.textNode(view.title, {}, "h2"));
    const body = document.createElement("div");
    body.className = "body";
    const errors = state.modalErrors[state.me] || {};
    body.appendChild(BlockKit.render(view.blocks, { people: names(), errors, onAction: (el, blockId) => click({ view_id: view.id }, el, blockId) }));
    if (errors[""]) body.appendChild(Object.assign(document.createElement("div"), { className: "error", textContent: errors[""] }));
    const buttons = document.createElement("div");
    buttons.className = "buttons";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "bk";
    close.textContent = (view.close && view.close.text) || "Cancel";
    close.onclick = () => post("/sandbox/close", {});
    buttons.appendChild(close);
    if (view.submit) {
      const submit = document.createElement("button");
      submit.type = "submit";
      submit.className = "bk primary";
      submit.textContent = view.submit.text;
      buttons.appendChild(submit);
    }
    dialog.onsubmit = async (event) => {
      event.preventDefault();
      const answer = await post("/sandbox/submit", { values: BlockKit.stateValues(body) });
      state.modalErrors[state.me] = answer.errors || {};
      // Errors are shown in place, so what was typed stays where it was.
      if (state.modals[state.me] === view) showErrors(body, state.modalErrors[state.me]);
    };
    dialog.append(body, buttons);
    layer.appendChild(dialog);
    layer.hidden = false;
  }

  function showErrors(body, errors) {
    for (const old of body.querySelectorAll(".input-block .error")) old.remove();
    for (const wrap of body.querySelectorAll(".input-block")) {
      const error = errors[wrap.dataset.blockId];
      wrap.classList.toggle("has-error", Boolean(error));
      if (error) wrap.appendChild(Object.assign(document.createElement("div"), { className: "error", textContent: error }));
    }
  }

  function drawAll() {
    drawSidebar();
    drawTitle();
    drawMessages();
    drawModal();
    $("role").textContent = state.people[state.me]?.role || "";
  }

  function escape(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  // -- acting ----------------------------------------------------------------------------

  function click(where, el, blockId) {
    const action = { type: el.type, action_id: el.action_id, block_id: blockId || "", value: el.value, text: el.text };
    return post("/sandbox/click", { ...where, action });
  }

  function open(key) {
    state.current = key;
    if (key === "home") post("/sandbox/home", {});
    drawAll();
  }

  // -- following the feed ----------------------------------------------------------------

  function status(data) {
    const box = $("status");
    if (data.phase !== "refused") {
      box.dataset.phase = data.phase === "ready" && box.dataset.phase === "error" ? "error" : data.phase;
      $("status-text").textContent = data.text;
    }
    const li = document.createElement("li");
    li.textContent = data.text;
    if (data.phase === "refused") li.className = "refused";
    $("status-log").appendChild(li);
    $("status-log").scrollTop = $("status-log").scrollHeight;
  }

  function follow() {
    const feed = new EventSource("/sandbox/feed");
    feed.addEventListener("message", (e) => {
      const m = JSON.parse(e.data);
      const key = `${m.channel} ${m.ts}`;
      const known = state.messages.get(key);
      state.messages.set(key, { message: m, order: known ? known.order : ++state.order, edited: Boolean(known) });
      drawSidebar();
      if (conversationId(state.current) === m.channel) drawMessages();
    });
    feed.addEventListener("delete", (e) => {
      const d = JSON.parse(e.data);
      state.messages.delete(`${d.channel} ${d.ts}`);
      drawAll();
    });
    feed.addEventListener("home", (e) => {
      const d = JSON.parse(e.data);
      state.homes[d.user] = d.view;
      if (d.user === state.me && state.current === "home") drawHome();
    });
    feed.addEventListener("modal", (e) => {
      const d = JSON.parse(e.data);
      state.modals[d.user] = d.view;
      state.modalErrors[d.user] = {};
      if (d.user === state.me) drawModal();
    });
    feed.addEventListener("modal_closed", (e) => {
      const d = JSON.parse(e.data);
      delete state.modals[d.user];
      if (d.user === state.me) drawModal();
    });
    feed.addEventListener("status", (e) => status(JSON.parse(e.data)));
    feed.addEventListener("refused", (e) => {
      const d = JSON.parse(e.data);
      status({ phase: "refused", text: `Slack would have refused the bot's ${d.method}: ${d.problems.join("; ")}` });
    });
  }

  async function start() {
    const workspace = await (await fetch("/sandbox/workspace")).json();
    state.bot = workspace.bot;
    state.channels = workspace.channels;
    for (const p of workspace.people) state.people[p.id] = p;
    const who = $("who");
    for (const p of workspace.people) {
      const o = document.createElement("option");
      o.value = p.id;
      o.textContent = p.name;
      who.appendChild(o);
    }
    const wanted = new URLSearchParams(location.search).get("as");
    state.me = state.people[wanted] ? wanted : workspace.people[0].id;
    who.value = state.me;
    who.onchange = () => {
      state.me = who.value;
      const channel = state.channels.find((c) => c.id === state.current);
      if (channel && !canSee(channel)) state.current = "CGENERAL";
      if (state.current === "home") post("/sandbox/home", {});
      drawAll();
    };
    $("composer").onsubmit = async (event) => {
      event.preventDefault();
      const input = $("compose");
      const text = input.value;
      input.value = "";
      await post("/sandbox/type", { channel: conversationId(state.current), text });
    };
    drawAll();
    follow();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
