/*
 * The public status page and the public incident pages: a tiny
 * graphql-transport-ws client and a renderer.
 *
 * No framework and no build step. Every piece of data reaches the DOM via
 * textContent or setAttribute, never as markup. The subscription sends the
 * full current state first and after every change, so a reconnect needs no
 * separate re-read: the first message after it replaces everything.
 *
 * <html data-page> says which page this is: "status" (/status) or
 * "incident" (/status/incidents/KEY, rendered by the server first, kept live
 * here). <html data-base> is the way back to the service's root from this
 * page ("" or "../../"), so the page works under any path prefix.
 */
"use strict";

(function () {
  const INCIDENT_FIELDS = `key title publicStatus declaredAt updatedAt resolvedAt
      components { name status }
      updates { body publicStatus at }
      postmortem { summary customerImpact resolution publishedAt }`;

  const STATUS_QUERY = `subscription StatusPage {
  statusPage {
    overallStatus updatedAt
    components {
      name description status group updatedAt
      uptime(days: 90) { date worstStatus outageSeconds degradedSeconds }
      uptimePercent(days: 90)
    }
    activeIncidents { ${INCIDENT_FIELDS} }
    recentIncidents { ${INCIDENT_FIELDS} }
    maintenances {
      id title description status startsAt endsAt
      components { name }
      updates { body status at }
    }
  }
}`;

  // The incident page needs only the incidents: a smaller message, and one
  // shared execution per change for all its readers, like the status page.
  const INCIDENT_PAGE_QUERY = `subscription StatusPageIncidents {
  statusPage {
    updatedAt
    activeIncidents { ${INCIDENT_FIELDS} }
    recentIncidents { ${INCIDENT_FIELDS} }
  }
}`;

  const PUBLIC_INCIDENT_QUERY = `query PublicIncident($key: String!) {
  publicIncident(key: $key) { ${INCIDENT_FIELDS} }
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
  const MAINTENANCE_STATUS = {
    SCHEDULED: "Scheduled",
    IN_PROGRESS: "In progress",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
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

  const ROOT = document.documentElement;
  const BASE = ROOT.getAttribute("data-base") || "";
  const EMBED = new URLSearchParams(window.location.search).has("embed");

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
  const timeOfDayFormat = new Intl.DateTimeFormat(undefined, {
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  const dayFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
  // Uptime days are UTC days.
  const utcDayFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
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

  // A link that leaves an embedding iframe instead of opening inside it.
  function link(href, attrs) {
    return el("a", Object.assign({ href, target: EMBED ? "_blank" : null, rel: EMBED ? "noopener" : null }, attrs));
  }

  function incidentHref(key) {
    return BASE + "status/incidents/" + encodeURIComponent(key);
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

  function timeEl(iso, { withRelative = false, format = dateFormat } = {}) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return el("span", { text: "—" });
    const text = format.format(date) + (withRelative ? " (" + relative(date) + ")" : "");
    return el("time", { datetime: date.toISOString(), title: date.toISOString(), text });
  }

  function newestFirst(items) {
    return items.slice().sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
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

  function showUpdatedAt(iso) {
    document.getElementById("updated-at").replaceChildren(timeEl(iso, { withRelative: true }));
  }

  /* ---------------------------------------------------------------- uptime */

  function duration(seconds) {
    const minutes = Math.round(seconds / 60);
    if (minutes < 1) return "less than a minute";
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    if (!hours) return rest + " min";
    return rest ? hours + " h " + rest + " min" : hours + " h";
  }

  // What a day's bar says in words: its title, and the text a screen reader reads.
  function dayText(day) {
    const date = utcDayFormat.format(new Date(day.date + "T00:00:00Z"));
    if (!day.worstStatus) return date + ": no data";
    const info = statusInfo(day.worstStatus);
    let text;
    if (day.outageSeconds > 0) text = info.label + ", " + duration(day.outageSeconds) + " of downtime";
    else if (day.worstStatus === "DEGRADED_PERFORMANCE") text = "Degraded performance for " + duration(day.degradedSeconds);
    else if (day.worstStatus === "OPERATIONAL") text = "No downtime";
    else text = info.label + ", no downtime";
    if (day.outageSeconds > 0 && day.degradedSeconds > 0) {
      text += "; degraded performance for " + duration(day.degradedSeconds);
    }
    return date + ": " + text;
  }

  function formatPercent(value) {
    if (typeof value !== "number") return "—";
    if (value >= 100) return "100%";
    // Never round 99.996 up to a perfect 100.00.
    return (Math.floor(value * 100) / 100).toFixed(2) + "%";
  }

  function renderUptime(component) {
    const days = component.uptime || [];
    if (!days.length) return null;
    return el("div", { class: "uptime" },
      el("ol", {
        class: "uptime__days",
        "aria-label": "Uptime of " + component.name + ", the last " + days.length + " days, oldest first",
      }, ...days.map((day) => {
        const text = dayText(day);
        return el("li", {
          class: "uptime__day " + (day.worstStatus ? "status--" + statusInfo(day.worstStatus).cls : "uptime__day--nodata"),
          title: text,
          "data-date": day.date,
          "data-status": day.worstStatus || "NO_DATA",
        }, el("span", { class: "sr-only", text }));
      })),
      el("p", { class: "uptime__legend" },
        el("span", { text: days.length + " days ago" }),
        el("span", { class: "uptime__percent", text: formatPercent(component.uptimePercent) + " uptime" }),
        el("span", { text: "Today" })),
      // Shows the day under the pointer or finger (a title needs a mouse).
      el("p", { class: "uptime__caption", "aria-hidden": "true" }));
  }

  function followUptimeDays(container) {
    function caption(target) {
      const box = target instanceof Element ? target.closest(".uptime") : null;
      return box ? box.querySelector(".uptime__caption") : null;
    }
    function show(event) {
      const day = event.target instanceof Element ? event.target.closest(".uptime__day") : null;
      const text = caption(event.target);
      if (day && text) text.textContent = day.getAttribute("title");
    }
    container.addEventListener("pointerover", show);
    container.addEventListener("click", show);
    container.addEventListener("pointerout", (event) => {
      const text = caption(event.target);
      if (text && !(event.relatedTarget instanceof Element && event.relatedTarget.closest(".uptime__days"))) {
        text.textContent = "";
      }
    });
  }

  /* ------------------------------------------------------------ components */

  function renderComponent(c) {
    return el("li", {
      class: "component status--" + statusInfo(c.status).cls,
      "data-component": c.name,
      "data-status": String(c.status),
    },
      el("div", { class: "component__row" },
        el("div", { class: "component__main" },
          el("span", { class: "component__name", text: c.name }),
          c.description ? el("span", { class: "component__description", text: c.description }) : null),
        statusBadge(c.status)),
      renderUptime(c));
  }

  function renderComponents(components) {
    const box = document.getElementById("components");
    box.removeAttribute("aria-busy");
    if (!components.length) {
      box.replaceChildren(el("ul", { class: "components" },
        el("li", { class: "components__empty", text: "No components are listed yet." })));
      return;
    }
    // In the order given (ungrouped first, then by group): each run of one group is a block.
    const blocks = [];
    for (const c of components) {
      const group = c.group || "";
      const last = blocks[blocks.length - 1];
      if (last && last.group === group) last.items.push(c);
      else blocks.push({ group, items: [c] });
    }
    box.replaceChildren(...blocks.map((block, n) => {
      const list = el("ul", { class: "components" }, ...block.items.map(renderComponent));
      if (!block.group) return list;
      const id = "component-group-" + n;
      return el("section", { class: "component-group", "data-group": block.group, "aria-labelledby": id },
        el("h3", { class: "component-group__heading", id },
          el("span", { class: "component-group__name", text: block.group }),
          statusBadge(worst(block.items.map((c) => c.status)))),
        list);
    }));
  }

  /* ------------------------------------------------------------- incidents */

  function renderUpdates(updates, labelOf) {
    return el("ol", { class: "updates", "aria-label": "Updates, newest first" },
      ...newestFirst(updates).map((u) => el("li", { class: "update", "data-public-status": String(u.publicStatus || u.status) },
        el("p", { class: "update__text" },
          el("strong", { class: "update__status", text: labelOf(u) }),
          " — ",
          el("span", { class: "update__body", text: u.body })),
        el("p", { class: "update__time" }, timeEl(u.at, { withRelative: true })))));
  }

  // The components an incident or a window concerns; `statusOf` null: names only.
  function renderAffected(components, statusOf, cls) {
    if (!components.length) return null;
    return el("div", { class: "incident__affected" },
      el("span", { class: "incident__affected-label", text: "Affected:" }),
      el("ul", { class: "affected" }, ...components.map((c) => {
        const status = statusOf ? statusOf(c) : null;
        return el("li", {
          class: "affected__item status--" + (status ? statusInfo(status).cls : cls),
          "data-component": c.name,
          "data-status": status ? String(status) : null,
        },
          el("span", { class: "status-icon", "aria-hidden": "true" }),
          el("span", { text: status ? c.name + " — " + statusInfo(status).label : c.name }));
      })));
  }

  function publicStatusLabel(status) {
    return PUBLIC_STATUS[status] || humanize(status);
  }

  /** An incident: a card on /status, or the whole of its own page (`page: true`). */
  function renderIncident(incident, { page = false } = {}) {
    const affected = incident.components || [];
    const resolved = incident.publicStatus === "RESOLVED";
    const severity = resolved ? "OPERATIONAL" : worst(affected.map((c) => c.status));
    const cls = severity ? statusInfo(severity).cls : "unknown";
    const headingId = page ? "incident-title" : "incident-" + String(incident.key).replace(/[^A-Za-z0-9_-]/g, "_");

    const meta = el("p", { class: "incident__meta" },
      el("span", { class: "incident__key", text: incident.key }), " · Declared ",
      timeEl(incident.declaredAt, { withRelative: true }));
    if (incident.resolvedAt) meta.append(" · Resolved ", timeEl(incident.resolvedAt));

    const title = page
      ? el("h2", { class: "incident__title", id: headingId, text: incident.title })
      : el("h3", { class: "incident__title", id: headingId },
        link(incidentHref(incident.key), { class: "incident__link", text: incident.title }));

    const updates = incident.updates || [];
    return el("article", {
      class: "incident status--" + cls + (page ? " incident--page" : ""),
      id: page ? "incident" : null,
      "data-incident": incident.key,
      "data-public-status": String(incident.publicStatus),
      "aria-labelledby": headingId,
    },
      el("header", { class: "incident__header" },
        title,
        el("span", {
          class: "phase phase--" + String(incident.publicStatus || "").toLowerCase().replace(/[^a-z]/g, ""),
          text: publicStatusLabel(incident.publicStatus),
        })),
      meta,
      renderAffected(affected, (c) => c.status),
      renderPostmortem(incident.postmortem),
      updates.length
        ? renderUpdates(updates, (u) => publicStatusLabel(u.publicStatus))
        : el("p", { class: "updates__none", text: "We are aware of this and will post an update shortly." }));
  }

  /** A public postmortem: the same markup as the server's (web/pages.py). */
  function renderPostmortem(pm) {
    if (!pm) return null;
    const parts = [
      el("h3", { class: "postmortem__title", text: "Postmortem" }),
      el("p", { class: "postmortem__time" }, "Published ", timeEl(pm.publishedAt)),
      el("p", { class: "postmortem__text postmortem__summary", text: pm.summary }),
    ];
    for (const [heading, text] of [["Customer impact", pm.customerImpact], ["Resolution", pm.resolution]]) {
      if (text) {
        parts.push(el("h4", { class: "postmortem__heading", text: heading }),
          el("p", { class: "postmortem__text", text }));
      }
    }
    return el("section", { class: "postmortem", "aria-label": "Postmortem" }, ...parts);
  }

  function renderIncidents(incidents) {
    const sorted = incidents.slice().sort((a, b) => Date.parse(b.declaredAt) - Date.parse(a.declaredAt));
    document.getElementById("incidents-section").hidden = sorted.length === 0;
    document.getElementById("incidents").replaceChildren(...sorted.map((i) => renderIncident(i)));
  }

  /* ----------------------------------------------------------- maintenance */

  function renderMaintenance(m) {
    const headingId = "maintenance-" + String(m.id).replace(/[^A-Za-z0-9_-]/g, "_");
    const updates = m.updates || [];
    return el("article", {
      class: "incident maintenance status--maintenance",
      "data-maintenance": m.id,
      "data-status": String(m.status),
      "aria-labelledby": headingId,
    },
      el("header", { class: "incident__header" },
        el("h3", { class: "incident__title", id: headingId, text: m.title }),
        el("span", { class: "phase phase--maintenance", text: MAINTENANCE_STATUS[m.status] || humanize(m.status) })),
      el("p", { class: "incident__meta" },
        m.status === "IN_PROGRESS" ? "Started " : "Scheduled for ", timeEl(m.startsAt),
        " · Until ", timeEl(m.endsAt)),
      m.description ? el("p", { class: "maintenance__description", text: m.description }) : null,
      // Under maintenance only once it runs; before, just the names.
      renderAffected(m.components || [], m.status === "IN_PROGRESS" ? () => "UNDER_MAINTENANCE" : null, "maintenance"),
      updates.length ? renderUpdates(updates, (u) => MAINTENANCE_STATUS[u.status] || humanize(u.status)) : null);
  }

  function renderMaintenances(maintenances) {
    document.getElementById("maintenance-section").hidden = maintenances.length === 0;
    document.getElementById("maintenances").replaceChildren(...maintenances.map(renderMaintenance));
  }

  /* --------------------------------------------------------------- history */

  function localDay(date) {
    const day = new Date(date.getTime());
    day.setHours(0, 0, 0, 0);
    return day;
  }

  function dayKey(day) {
    const pad = (n) => String(n).padStart(2, "0");
    return day.getFullYear() + "-" + pad(day.getMonth() + 1) + "-" + pad(day.getDate());
  }

  function renderPastIncident(incident) {
    const last = newestFirst(incident.updates || [])[0];
    return el("li", { class: "past", "data-incident": incident.key, "data-public-status": String(incident.publicStatus) },
      el("h4", { class: "past__title" }, link(incidentHref(incident.key), { text: incident.title })),
      last ? el("p", { class: "past__update", text: last.body }) : null,
      incident.postmortem
        ? el("p", { class: "past__postmortem" }, link(incidentHref(incident.key), { text: "Postmortem published" }))
        : null,
      el("p", { class: "past__meta" },
        el("span", { class: "past__resolved", text: publicStatusLabel(incident.publicStatus) }), " ",
        timeEl(incident.resolvedAt, { format: timeOfDayFormat }),
        " · ", el("span", { class: "incident__key", text: incident.key })));
  }

  /** Resolved incidents by the (local) day they were resolved, every day of the window, newest first. */
  function renderHistory(incidents) {
    const windowDays = Number(ROOT.getAttribute("data-history-days")) || 14;
    const byDay = new Map();
    const days = new Map();
    const today = localDay(new Date());
    for (let n = 0; n < windowDays; n++) {
      const day = new Date(today.getFullYear(), today.getMonth(), today.getDate() - n);
      days.set(dayKey(day), day);
    }
    for (const incident of incidents) {
      // The window is counted in hours on the server: its first day may be one more here.
      const day = localDay(new Date(incident.resolvedAt || incident.updatedAt));
      const key = dayKey(day);
      days.set(key, day);
      if (!byDay.has(key)) byDay.set(key, []);
      byDay.get(key).push(incident);
    }
    const ordered = Array.from(days.entries()).sort((a, b) => b[1] - a[1]);
    document.getElementById("history-section").hidden = false;
    document.getElementById("history").replaceChildren(...ordered.map(([key, day]) => {
      const resolved = (byDay.get(key) || [])
        .sort((a, b) => Date.parse(b.resolvedAt) - Date.parse(a.resolvedAt));
      return el("section", { class: "history-day", "data-day": key, "aria-label": dayFormat.format(day) },
        el("h3", { class: "history-day__date" }, el("time", { datetime: key, text: dayFormat.format(day) })),
        resolved.length
          ? el("ul", { class: "past-incidents" }, ...resolved.map(renderPastIncident))
          : el("p", { class: "history-day__none", text: "No incidents reported" }));
    }));
  }

  /* ------------------------------------------------------------ connection */

  function showConnection(state, detail) {
    ROOT.setAttribute("data-connection", state);
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

  function socketUrl() {
    const url = new URL(BASE + "graphql", window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    return url.toString();
  }

  /* ----------------------------------------------------------------- pages */

  function statusPage() {
    let current = null;
    function render(page) {
      current = page;
      renderOverall(page);
      renderIncidents(page.activeIncidents || []);
      renderMaintenances(page.maintenances || []);
      renderComponents(page.components || []);
      renderHistory(page.recentIncidents || []);
      showUpdatedAt(page.updatedAt);
    }
    followUptimeDays(document.getElementById("components"));
    liveSubscription({ url: socketUrl(), query: STATUS_QUERY, onData: render, onState: showConnection });
    // Keep "5 minutes ago" and the days of the history true without waiting for a change.
    setInterval(() => { if (current) render(current); }, 30000);
  }

  async function readIncident(key) {
    const response = await fetch(BASE + "graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: PUBLIC_INCIDENT_QUERY, variables: { key } }),
      credentials: "omit",
      cache: "no-store",
    });
    const body = await response.json();
    if (!response.ok || body.errors || !body.data) throw new Error("publicIncident failed: " + response.status);
    return body.data.publicIncident;
  }

  /**
   * One incident, live. The page's own subscription carries the incident while
   * it is active or recently resolved; otherwise (resolved long ago) each
   * change of the page re-reads it with the `publicIncident` query.
   */
  function incidentPage() {
    const first = document.getElementById("incident");
    if (!first) return;
    const key = first.getAttribute("data-incident");
    const siteTitle = document.getElementById("site-title").textContent;
    let current = null;
    let generation = 0;
    let wanted = false;
    let reading = false;

    function show(incident) {
      const shown = document.getElementById("incident");
      current = incident;
      if (!incident) {
        shown.replaceWith(el("p", { class: "notice", id: "incident", text: "This incident is no longer public." }));
        return;
      }
      shown.replaceWith(renderIncident(incident, { page: true }));
      document.title = incident.title + " · " + siteTitle;
      showUpdatedAt(incident.updatedAt);
    }

    async function reread() {
      if (reading) return;
      reading = true;
      try {
        while (wanted) {
          wanted = false;
          const asked = generation;
          const incident = await readIncident(key);
          // A newer page arrived meanwhile: it decides (and asks again if it must).
          if (asked === generation) show(incident);
        }
      } catch (e) {
        // Keep what is shown; try again a little later unless a change comes first.
        setTimeout(() => { wanted = true; reread(); }, 5000 + Math.random() * 5000);
      } finally {
        reading = false;
      }
    }

    function onData(page) {
      generation += 1;
      const all = (page.activeIncidents || []).concat(page.recentIncidents || []);
      const found = all.find((i) => i.key === key);
      if (found) {
        wanted = false;
        show(found);
      } else {
        wanted = true;
        reread();
      }
    }

    liveSubscription({ url: socketUrl(), query: INCIDENT_PAGE_QUERY, onData, onState: showConnection });
    setInterval(() => { if (current) show(current); }, 30000);
  }

  function start() {
    if (EMBED) ROOT.classList.add("embed");
    const page = ROOT.getAttribute("data-page");
    if (page === "incident") incidentPage();
    else statusPage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
