/*
 * The public status page: a tiny graphql-transport-ws client and a renderer.
 *
 * No framework and no build step. Every piece of data reaches the DOM via
 * textContent or setAttribute, never as markup. The subscription sends the
 * full current state first and after every change, so a reconnect needs no
 * separate re-read: the first message after it replaces everything.
 */
"use strict";

(function () {
  const QUERY = `subscription StatusPage {
  statusPage {
    overallStatus updatedAt
    components { name description status updatedAt }
    activeIncidents {
      key title publicStatus declaredAt updatedAt resolvedAt
      components { name status }
      updates { body publicStatus at }
    }
  }
}`;

  // Order matters only for the fallback of an unknown value (see statusInfo).
  const COMPONENT_STATUS = {
    OPERATIONAL: { label: "Operational", banner: "All systems operational", cls: "operational" },
    UNDER_MAINTENANCE: { label: "Under maintenance", banner: "Maintenance in progress", cls: "maintenance" },
    DEGRADED_PERFORMANCE: { label: "Degraded performance", banner: "Degraded performance", cls: "degraded" },
    PARTIAL_OUTAGE: { label: "Partial outage", banner: "Partial system outage", cls: "partial" },
    MAJOR_OUTAGE: { label: "Major outage", banner: "Major system outage", cls: "major" },
  };
  const SEVERITY = ["OPERATIONAL", "UNDER_MAINTENANCE", "DEGRADED_PERFORMANCE", "PARTIAL_OUTAGE", "MAJOR_OUTAGE"];
  const PUBLIC_STATUS = {
    INVESTIGATING: "Investigating",
    IDENTIFIED: "Identified",
    MONITORING: "Monitoring",
    RESOLVED: "Resolved",
  };
  const FAVICON_COLOURS = {
    operational: "#1f883d", maintenance: "#0969da", degraded: "#d4a20b",
    partial: "#e8590c", major: "#d1242f", unknown: "#6e7781",
  };

  // Keep-alive: proxies drop idle sockets, and a half-open socket (a laptop
  // that slept) never fires "close" by itself. A ping answered by nothing in
  // PONG_TIMEOUT_MS means the socket is dead.
  const PING_INTERVAL_MS = 15000;
  const PONG_TIMEOUT_MS = 10000;
  const ACK_TIMEOUT_MS = 10000;
  const BACKOFF_BASE_MS = 1000;
  const BACKOFF_MAX_MS = 30000;

  function humanize(value) {
    const text = String(value || "unknown").toLowerCase().replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function statusInfo(status) {
    return COMPONENT_STATUS[status] || { label: humanize(status), banner: humanize(status), cls: "unknown" };
  }

  function worst(statuses) {
    let best = -1;
    let found = null;
    for (const s of statuses) {
      const rank = SEVERITY.indexOf(s);
      if (rank > best) { best = rank; found = s; }
    }
    return found;
  }

  /* ---------------------------------------------------------------- client */

  /**
   * One graphql-transport-ws subscription that stays up: it reconnects with
   * exponential backoff and full jitter, and re-subscribes each time.
   */
  function liveSubscription({ url, query, onData, onState }) {
    let socket = null;
    let attempt = 0;
    let retryTimer = null;
    let pingTimer = null;
    let pongTimer = null;
    let ackTimer = null;
    let counter = 0;

    function send(sock, message) {
      if (sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify(message));
    }

    function clearTimers() {
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      clearTimeout(ackTimer);
      pingTimer = pongTimer = ackTimer = null;
    }

    // Forget a socket and plan the next attempt. Its own "close" event may
    // come much later (or never); it is ignored because socket !== sock.
    function drop(sock, reason) {
      if (socket !== sock) return;
      socket = null;
      clearTimers();
      try { sock.close(1000); } catch (e) { /* already closing */ }
      scheduleReconnect(reason);
    }

    function scheduleReconnect(reason) {
      clearTimeout(retryTimer);
      attempt += 1;
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      onState("reconnecting", { reason, delay });
      retryTimer = setTimeout(connect, delay);
    }

    function connect() {
      clearTimeout(retryTimer);
      retryTimer = null;
      if (socket) return;
      let sock;
      try {
        sock = new WebSocket(url, "graphql-transport-ws");
      } catch (e) {
        scheduleReconnect("cannot open a websocket");
        return;
      }
      socket = sock;
      const id = "status-" + (++counter);

      sock.onopen = () => {
        send(sock, { type: "connection_init", payload: {} });
        ackTimer = setTimeout(() => drop(sock, "no connection_ack"), ACK_TIMEOUT_MS);
      };
      sock.onmessage = (event) => {
        if (socket !== sock) return;
        clearTimeout(pongTimer);
        pongTimer = null;
        let message;
        try {
          message = JSON.parse(event.data);
        } catch (e) {
          drop(sock, "invalid message");
          return;
        }
        switch (message.type) {
          case "connection_ack":
            clearTimeout(ackTimer);
            send(sock, { id, type: "subscribe", payload: { query } });
            pingTimer = setInterval(() => {
              send(sock, { type: "ping" });
              if (!pongTimer) pongTimer = setTimeout(() => drop(sock, "no pong"), PONG_TIMEOUT_MS);
            }, PING_INTERVAL_MS);
            break;
          case "ping":
            send(sock, { type: "pong" });
            break;
          case "pong":
            break;
          case "next": {
            if (message.id !== id) break;
            const payload = message.payload || {};
            if (payload.data && payload.data.statusPage) {
              attempt = 0; // only a delivered state proves the connection works
              onState("live", {});
              onData(payload.data.statusPage);
            } else {
              onState("unavailable", { reason: firstError(payload.errors) });
            }
            break;
          }
          case "error":
            if (message.id === id) drop(sock, firstError(message.payload));
            break;
          case "complete":
            if (message.id === id) drop(sock, "subscription completed by the server");
            break;
          default:
            break;
        }
      };
      sock.onclose = (event) => {
        if (socket !== sock) return;
        socket = null;
        clearTimers();
        scheduleReconnect(event.reason || "connection closed (" + event.code + ")");
      };
    }

    function firstError(errors) {
      return (Array.isArray(errors) && errors[0] && errors[0].message) || "unknown error";
    }

    // Back online, or back to a tab that slept: try now instead of waiting.
    function kick() {
      if (!socket && retryTimer) { attempt = 0; connect(); }
    }
    window.addEventListener("online", kick);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") kick();
    });

    connect();
  }

  /* -------------------------------------------------------------- rendering */

  const dateFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  const relativeFormat = typeof Intl.RelativeTimeFormat === "function"
    ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
    : null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function relative(date) {
    if (!relativeFormat) return "";
    const seconds = Math.round((date.getTime() - Date.now()) / 1000);
    const abs = Math.abs(seconds);
    if (abs < 45) return "just now";
    if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), "minute");
    if (abs < 86400) return relativeFormat.format(Math.round(seconds / 3600), "hour");
    return relativeFormat.format(Math.round(seconds / 86400), "day");
  }

  function timeEl(iso, { withRelative = false } = {}) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return el("span", { text: "—" });
    const text = dateFormat.format(date) + (withRelative ? " (" + relative(date) + ")" : "");
    return el("time", { datetime: date.toISOString(), title: date.toISOString(), text });
  }

  function statusBadge(status) {
    const info = statusInfo(status);
    return el("span", { class: "status-label status--" + info.cls },
      el("span", { class: "status-icon", "aria-hidden": "true" }),
      el("span", { class: "status-label__text", text: info.label }));
  }

  function renderOverall(page) {
    const overall = document.getElementById("overall");
    const info = statusInfo(page.overallStatus);
    overall.className = "overall status--" + info.cls;
    overall.setAttribute("data-status", String(page.overallStatus));
    const text = document.getElementById("overall-text");
    // Rewriting the same text would make some screen readers announce it again.
    if (text.textContent !== info.banner) text.textContent = info.banner;
    const base = document.getElementById("site-title").textContent;
    document.title = page.overallStatus === "OPERATIONAL" ? base : info.label + " · " + base;
    const colour = FAVICON_COLOURS[info.cls];
    document.getElementById("favicon").setAttribute("href",
      "data:image/svg+xml," + encodeURIComponent(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>" +
        "<circle cx='8' cy='8' r='7' fill='" + colour + "'/></svg>"));
  }

  function renderComponents(components) {
    const list = document.getElementById("components");
    list.removeAttribute("aria-busy");
    if (!components.length) {
      list.replaceChildren(el("li", { class: "components__empty", text: "No components are listed yet." }));
      return;
    }
    list.replaceChildren(...components.map((c) => el("li", {
      class: "component status--" + statusInfo(c.status).cls,
      "data-component": c.name,
      "data-status": String(c.status),
    },
      el("div", { class: "component__main" },
        el("span", { class: "component__name", text: c.name }),
        c.description ? el("span", { class: "component__description", text: c.description }) : null),
      statusBadge(c.status))));
  }

  function renderIncident(incident) {
    const affected = incident.components || [];
    const resolved = incident.publicStatus === "RESOLVED";
    const severity = resolved ? "OPERATIONAL" : worst(affected.map((c) => c.status));
    const cls = severity ? statusInfo(severity).cls : "unknown";
    const updates = (incident.updates || []).slice().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    const headingId = "incident-" + String(incident.key).replace(/[^A-Za-z0-9_-]/g, "_");

    const meta = el("p", { class: "incident__meta" },
      el("span", { class: "incident__key", text: incident.key }), " · Declared ",
      timeEl(incident.declaredAt, { withRelative: true }));
    if (incident.resolvedAt) meta.append(" · Resolved ", timeEl(incident.resolvedAt));

    const article = el("article", {
      class: "incident status--" + cls,
      "data-incident": incident.key,
      "data-public-status": String(incident.publicStatus),
      "aria-labelledby": headingId,
    },
      el("header", { class: "incident__header" },
        el("h3", { class: "incident__title", id: headingId, text: incident.title }),
        el("span", { class: "phase phase--" + String(incident.publicStatus || "").toLowerCase().replace(/[^a-z]/g, ""),
          text: PUBLIC_STATUS[incident.publicStatus] || humanize(incident.publicStatus) })),
      meta);

    if (affected.length) {
      article.append(el("div", { class: "incident__affected" },
        el("span", { class: "incident__affected-label", text: "Affected:" }),
        el("ul", { class: "affected" }, ...affected.map((c) => el("li", {
          class: "affected__item status--" + statusInfo(c.status).cls,
          "data-component": c.name,
          "data-status": String(c.status),
        },
          el("span", { class: "status-icon", "aria-hidden": "true" }),
          el("span", { text: c.name + " — " + statusInfo(c.status).label }))))));
    }

    if (updates.length) {
      article.append(el("ol", { class: "updates", "aria-label": "Updates, newest first" },
        ...updates.map((u) => el("li", { class: "update", "data-public-status": String(u.publicStatus) },
          el("p", { class: "update__text" },
            el("strong", { class: "update__status", text: PUBLIC_STATUS[u.publicStatus] || humanize(u.publicStatus) }),
            " — ",
            el("span", { class: "update__body", text: u.body })),
          el("p", { class: "update__time" }, timeEl(u.at, { withRelative: true }))))));
    } else {
      article.append(el("p", { class: "updates__none", text: "We are aware of this and will post an update shortly." }));
    }
    return article;
  }

  function renderIncidents(incidents) {
    const section = document.getElementById("incidents-section");
    const sorted = incidents.slice().sort((a, b) => Date.parse(b.declaredAt) - Date.parse(a.declaredAt));
    section.hidden = sorted.length === 0;
    document.getElementById("incidents").replaceChildren(...sorted.map(renderIncident));
  }

  let current = null;

  function render(page) {
    current = page;
    renderOverall(page);
    renderIncidents(page.activeIncidents || []);
    renderComponents(page.components || []);
    const updated = document.getElementById("updated-at");
    updated.replaceWith(Object.assign(timeEl(page.updatedAt, { withRelative: true }), { id: "updated-at" }));
  }

  function showConnection(state, detail) {
    document.documentElement.setAttribute("data-connection", state);
    const text = document.getElementById("connection-text");
    const box = document.getElementById("connection");
    if (state === "live") {
      text.textContent = "Live";
      box.title = "Connected: changes appear here as they happen.";
    } else if (state === "reconnecting") {
      text.textContent = "Reconnecting…";
      box.title = "Connection lost (" + detail.reason + "); retrying in " +
        Math.max(1, Math.round(detail.delay / 1000)) + " s. The page shows the last known status.";
    } else if (state === "unavailable") {
      text.textContent = "Status temporarily unavailable";
      box.title = detail.reason || "";
    }
  }

  function start() {
    const url = new URL("graphql", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    if (new URLSearchParams(window.location.search).has("embed")) {
      document.documentElement.classList.add("embed");
    }
    liveSubscription({ url: url.toString(), query: QUERY, onData: render, onState: showConnection });
    // Keep "5 minutes ago" true without waiting for the next change.
    setInterval(() => { if (current) render(current); }, 30000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
