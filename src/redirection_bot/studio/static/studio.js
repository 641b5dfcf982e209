// The studio page's behaviour: follow file changes, move between flows and nodes without
// losing the player, and drive the player. Every piece of HTML comes from our own server,
// already escaped there; nothing here builds markup from text.
"use strict";

(() => {
  const POLL_MS = 1000;
  const page = {
    generation: Number(document.body.dataset.generation || "0"),
    player: "",
    polling: false,
  };

  const $ = (selector) => document.querySelector(selector);

  async function get(url, options) {
    const response = await fetch(url, options);
    if (!response.ok) {
      const error = new Error(`${response.status} ${url}`);
      error.status = response.status;
      throw error;
    }
    return response.text();
  }

  function swap(selector, html) {
    const old = $(selector);
    if (!old) return null;
    const holder = document.createElement("template");
    holder.innerHTML = html;
    const fresh = holder.content.firstElementChild;
    if (fresh) old.replaceWith(fresh);
    return fresh;
  }

  function where() {
    const graph = $("#graph");
    const details = $("#node-details");
    const node = details && details.dataset.node ? details.dataset.node.split(".")[1] : "";
    return {
      flow: graph ? graph.dataset.flow : "",
      locale: graph ? graph.dataset.locale : "",
      node,
    };
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
    return search.toString();
  }

  // --- zooming the graph -------------------------------------------------------------------

  // The choice stays while the author moves between flows: a number (1 is actual size) or
  // "fit" (the flow's whole width in view). At first a flow wider than its place is shrunk
  // to fit, but not below ZOOM_READABLE: smaller, its words could not be read.
  const ZOOM_STEP = 1.25;
  const ZOOM_MIN = 0.1;
  const ZOOM_MAX = 3;
  const ZOOM_READABLE = 0.75;
  page.zoom = null;

  function fitScale(svg, scroll) {
    const width = Number(svg.getAttribute("width")) || 1;
    return Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, (scroll.clientWidth - 2) / width));
  }

  function currentScale(svg, scroll) {
    if (page.zoom === "fit") return fitScale(svg, scroll);
    if (typeof page.zoom === "number") return page.zoom;
    return Math.max(ZOOM_READABLE, Math.min(1, fitScale(svg, scroll)));
  }

  function applyZoom() {
    const svg = $("#flow-graph");
    const scroll = $("#graph .graph-scroll");
    const controls = $("#graph .graph-zoom");
    if (!svg || !scroll || !controls) return;
    controls.hidden = false;
    const scale = currentScale(svg, scroll);
    svg.style.width = `${Number(svg.getAttribute("width")) * scale}px`;
    svg.style.height = `${Number(svg.getAttribute("height")) * scale}px`;
    svg.dataset.scale = scale.toFixed(3);
    controls.querySelector(".zoom-level").textContent = `${Math.round(scale * 100)}%`;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("#graph .graph-zoom button");
    if (!button) return;
    const svg = $("#flow-graph");
    const scroll = $("#graph .graph-scroll");
    if (!svg || !scroll) return;
    const scale = currentScale(svg, scroll);
    const choice = button.dataset.zoom;
    if (choice === "fit") page.zoom = "fit";
    else if (choice === "actual") page.zoom = 1;
    else {
      const next = choice === "in" ? scale * ZOOM_STEP : scale / ZOOM_STEP;
      page.zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, next));
    }
    // Keep the middle of what the author was looking at in the middle.
    const middleX = (scroll.scrollLeft + scroll.clientWidth / 2) / scale;
    const middleY = (scroll.scrollTop + scroll.clientHeight / 2) / scale;
    applyZoom();
    const now = Number(svg.dataset.scale);
    scroll.scrollLeft = middleX * now - scroll.clientWidth / 2;
    scroll.scrollTop = middleY * now - scroll.clientHeight / 2;
  });

  window.addEventListener("resize", applyZoom);

  // --- graph and node texts ---------------------------------------------------------------

  async function show(target, push) {
    const params = query(target);
    try {
      swap("#graph", await get(`/fragment/graph?${params}`));
    } catch (error) {
      if (error.status === 404) {
        window.location.assign("/");
        return;
      }
      throw error;
    }
    swap("#node-details", await get(`/fragment/node?${params}`));
    for (const link of document.querySelectorAll("#flows a.flow-link")) {
      if (link.dataset.flow === target.flow) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (push) history.pushState(target, "", `/?${params}`);
    applyZoom();
    markPlayerPlace();
  }

  function markPlayerPlace() {
    for (const old of document.querySelectorAll("#flow-graph .node.current")) {
      old.classList.remove("current");
    }
    const player = $("#player");
    const at = player ? player.dataset.at : "";
    if (!at) return;
    const box = document.getElementById(`node-${at}`);
    if (box) box.classList.add("current");
  }

  async function followPlayer() {
    const player = $("#player");
    const follow = $("#follow");
    const at = player ? player.dataset.at : "";
    if (!at || !follow || !follow.checked) return markPlayerPlace();
    const flow = at.split(".")[0];
    if (flow !== where().flow) await show({ flow, node: "", locale: where().locale }, true);
    else markPlayerPlace();
  }

  document.addEventListener("click", (event) => {
    const anchor = event.target.closest("a");
    if (!anchor || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const href = anchor.getAttribute("href") || "";
    const inWorkspace = anchor.closest("#graph, #flows, #node-details, #player");
    if (!inWorkspace || !href.startsWith("/?") || !$("#graph")) return;
    event.preventDefault();
    const params = new URLSearchParams(href.slice(2));
    show(
      {
        flow: params.get("flow") || "",
        node: params.get("node") || "",
        locale: params.get("locale") || where().locale,
      },
      true,
    );
  });

  document.addEventListener("change", (event) => {
    const select = event.target.closest(".graph-locale select");
    if (!select) return;
    const here = where();
    show({ flow: here.flow, node: here.node, locale: select.value }, true);
  });

  window.addEventListener("popstate", () => {
    const params = new URLSearchParams(window.location.search);
    if ($("#graph")) {
      show(
        { flow: params.get("flow") || "", node: params.get("node") || "", locale: params.get("locale") || "" },
        false,
      );
    }
  });

  // --- the player -------------------------------------------------------------------------

  // After the author acts in the player, the graph may follow it; on other refreshes the
  // player's place is only marked, so that the flow the author is looking at stays.
  function showPlayer(html, acted) {
    const typing = document.activeElement && document.activeElement.name === "text";
    const fresh = swap("#player", html);
    if (!fresh) return;
    page.player = fresh.dataset.player;
    const transcript = fresh.querySelector(".transcript");
    if (transcript) transcript.scrollTop = transcript.scrollHeight;
    if (typing) {
      const input = fresh.querySelector("input[name=text]");
      if (input) input.focus();
    }
    if (acted) followPlayer();
    else markPlayerPlace();
  }

  async function newPlayer() {
    if (!$("#player")) return;
    const body = new URLSearchParams({ locale: where().locale });
    try {
      showPlayer(await get("/api/player", { method: "POST", body }));
    } catch (error) {
      if (error.status !== 409) throw error;
    }
  }

  async function refreshPlayer() {
    if (!page.player) return newPlayer();
    try {
      showPlayer(await get(`/api/player/${encodeURIComponent(page.player)}`));
    } catch (error) {
      if (error.status === 404) return newPlayer();
      throw error;
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.player-form");
    if (!form) return;
    event.preventDefault();
    if (!page.player) await newPlayer();
    if (!page.player) return;
    const body = new URLSearchParams(new FormData(form, event.submitter));
    const url = `/api/player/${encodeURIComponent(page.player)}/${form.dataset.action}`;
    try {
      showPlayer(await get(url, { method: "POST", body }), true);
    } catch (error) {
      if (error.status === 404) await newPlayer();
      else throw error;
    }
  });

  // --- following the files ----------------------------------------------------------------

  async function poll() {
    if (page.polling) return;
    page.polling = true;
    try {
      const status = JSON.parse(await get("/api/status"));
      if (status.generation !== page.generation) {
        page.generation = status.generation;
        const problems = $("#problems");
        if (problems) problems.innerHTML = status.problems;
        swap("#status", status.badge);
        document.body.dataset.errors = String(status.errors);
        if ($("#graph")) {
          await show(where(), false);
          await refreshPlayer();
        } else if ($("main.empty") && status.valid) {
          window.location.reload();
        }
      }
    } catch (error) {
      // The studio was stopped, or is busy: try again at the next tick.
    } finally {
      page.polling = false;
    }
  }

  window.setInterval(poll, POLL_MS);
  applyZoom();
  newPlayer();
})();
