/* Leaderboard: a tiny, dependency-free renderer for the live leaderboard frames
   of /ws/expert/, /ws/staff/ and /ws/console/ (see docs/protocol.md).

   Styles: the `.lb` section of frontend/pages.css (include it on the page).

   API
   ---
   Leaderboard.render(container, frame, options) -> void
     container  Element whose children are replaced by the board. Call it again
                with every new `leaderboard` frame; it re-renders in place and
                keeps keyboard focus on the period tab that had it.
     frame      {type: "leaderboard", period: "week"|"month"|"all",
                 rows: [row, ...] (top rows, best first),
                 me: row | null (the viewer's own row, wherever it ranks)}
                row = {expert, rank, name, initials, points, resolved, avg_rating}
                A null/undefined frame renders the loading state.
     options    {
                  strings:  translated UI text, see STRINGS below. Missing keys
                            fall back to English. Leaderboard.stringsFrom(el)
                            builds this object from `data-lb-*` attributes.
                  onPeriod: function (period) called when a period tab is
                            chosen (send {"type":"leaderboard.watch", period}).
                            The tab is marked at once and the list dims
                            (aria-busy) until the next render. Without
                            onPeriod, no tabs are shown. Drop frames whose
                            period is not the chosen one (late updates).
                  large:    true for the full-width layout with column headers
                            (also set by a `data-lb-large` attribute).
                }

   Leaderboard.stringsFrom(element) -> strings
     Reads `data-lb-<key>` attributes (e.g. data-lb-week="This week",
     data-lb-no-rating="No ratings yet") into a strings object.

   Leaderboard.PERIODS = ["week", "month", "all"]

   STRINGS (templates use %(n)s placeholders)
     week, month, all    period tab labels
     periods             aria-label of the tab list
     list                aria-label of the ranked list
     points              "%(n)s pts"        resolved   "%(n)s resolved"
     rating              "Average rating %(n)s out of 5"    noRating  "No ratings yet"
     you                 "You"              rank       "Rank"
     empty               shown when nobody has points yet
     loading             shown before the first frame
     more                aria-label of the separator before the own row
     colExpert, colResolved, colRating, colPoints   column headers (large)

   Markup and data-testids
     li[data-testid="leaderboard-row"][data-expert-id][data-rank]  one per top row
     [data-testid="leaderboard-me"][data-expert-id][data-rank]     the viewer's row:
        - inside its leaderboard-row (class "is-me", aria-current="true") when the
          viewer is in the top rows,
        - otherwise an extra li after a separator (li.lb__gap), not counted as a
          leaderboard-row.
     button[data-testid="leaderboard-period-<period>"][aria-pressed]
   All user data is inserted with textContent. */
(function () {
  "use strict";

  const PERIODS = ["week", "month", "all"];
  const DEFAULTS = {
    week: "This week",
    month: "This month",
    all: "All time",
    periods: "Period",
    list: "Leaderboard",
    points: "%(n)s pts",
    resolved: "%(n)s resolved",
    rating: "Average rating %(n)s out of 5",
    noRating: "No ratings yet",
    you: "You",
    rank: "Rank",
    empty: "No points earned in this period yet.",
    loading: "Loading the leaderboard…",
    more: "Your position",
    colExpert: "Expert",
    colResolved: "Resolved chats",
    colRating: "Rating",
    colPoints: "Points",
  };

  const lang = document.documentElement.lang || "en";
  let numberFormat;
  let ratingFormat;
  try {
    numberFormat = new Intl.NumberFormat(lang);
    ratingFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  } catch (_) {
    numberFormat = new Intl.NumberFormat();
    ratingFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }

  function fmt(template, params) {
    return String(template || "").replace(/%\((\w+)\)[sd]/g, (match, key) =>
      params && key in params ? String(params[key]) : match
    );
  }

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function stringsFrom(element) {
    const strings = {};
    if (!element) return strings;
    for (const [key, value] of Object.entries(element.dataset)) {
      // data-lb-no-rating -> dataset.lbNoRating -> noRating
      if (key.length > 2 && key.startsWith("lb") && key !== "lbLarge") {
        strings[key.charAt(2).toLowerCase() + key.slice(3)] = value;
      }
    }
    return strings;
  }

  function tabs(period, t, onPeriod) {
    const bar = make("div", "lb__tabs");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", t.periods);
    for (const key of PERIODS) {
      const button = make("button", "lb__tab", t[key]);
      button.type = "button";
      button.dataset.period = key;
      button.dataset.testid = "leaderboard-period-" + key;
      button.setAttribute("aria-pressed", String(key === period));
      button.addEventListener("click", () => {
        if (button.getAttribute("aria-pressed") === "true") return;
        for (const other of bar.querySelectorAll(".lb__tab")) {
          other.setAttribute("aria-pressed", String(other === button));
        }
        const board = bar.closest(".lb");
        if (board) board.setAttribute("aria-busy", "true");
        onPeriod(key);
      });
      bar.appendChild(button);
    }
    return bar;
  }

  // isMe: highlight as the viewer's row; tagInner: the inner block carries the
  // leaderboard-me testid (own row inside the top list).
  function rowContent(row, t, isMe, tagInner, large) {
    const inner = make("div", "lb__inner");
    if (tagInner) {
      inner.dataset.testid = "leaderboard-me";
      inner.dataset.expertId = String(row.expert);
      inner.dataset.rank = String(row.rank);
    }

    const rank = make("span", "lb__rank");
    rank.appendChild(make("span", "visually-hidden", t.rank + " "));
    rank.appendChild(document.createTextNode(String(row.rank)));
    inner.appendChild(rank);

    const avatar = make("span", "avatar avatar--sm lb__avatar", row.initials || "?");
    avatar.setAttribute("aria-hidden", "true");
    inner.appendChild(avatar);

    const who = make("span", "lb__who");
    const name = make("span", "lb__name", row.name);
    name.title = row.name || "";
    who.appendChild(name);
    if (isMe) who.appendChild(make("span", "badge badge--solid lb__you", t.you));

    const resolved = make("span", "lb__resolved");
    const around = fmt(t.resolved, { n: "\u0000" }).split("\u0000");
    if (around[0]) resolved.appendChild(make("span", "lb__suffix", around[0]));
    resolved.appendChild(make("span", "lb__num", numberFormat.format(row.resolved || 0)));
    if (around[1]) resolved.appendChild(make("span", "lb__suffix", around[1]));
    const rating = make("span", "lb__rating");
    if (row.avg_rating === null || row.avg_rating === undefined) {
      rating.classList.add("is-none");
      rating.textContent = "—";
      rating.title = t.noRating;
      rating.appendChild(make("span", "visually-hidden", " " + t.noRating));
    } else {
      const value = ratingFormat.format(row.avg_rating);
      const star = make("span", "lb__star", "★");
      star.setAttribute("aria-hidden", "true");
      rating.appendChild(star);
      const text = make("span", null, value);
      text.setAttribute("aria-hidden", "true");
      rating.appendChild(text);
      rating.appendChild(make("span", "visually-hidden", fmt(t.rating, { n: value })));
      rating.title = fmt(t.rating, { n: value });
    }
    inner.appendChild(who);
    if (large) {
      // One grid column each (see .lb--large in pages.css).
      inner.append(resolved, rating);
    } else {
      const meta = make("span", "lb__meta");
      meta.append(resolved, rating);
      who.appendChild(meta);
    }

    const points = make("span", "lb__points");
    const parts = fmt(t.points, { n: "\u0000" }).split("\u0000");
    if (parts[0]) points.appendChild(make("span", "lb__unit", parts[0]));
    points.appendChild(make("strong", null, numberFormat.format(row.points || 0)));
    if (parts[1]) points.appendChild(make("span", "lb__unit", parts[1]));
    inner.appendChild(points);
    return inner;
  }

  function rowItem(row, t, isMe, own, large) {
    const item = make("li", "lb__row");
    if (row.rank <= 3) item.classList.add("lb__row--top", "lb__row--" + row.rank);
    // The own row below the top is not one of the top rows: it is tagged
    // leaderboard-me itself; inside the top the inner block carries that tag.
    item.dataset.testid = own ? "leaderboard-me" : "leaderboard-row";
    item.dataset.expertId = String(row.expert);
    item.dataset.rank = String(row.rank);
    if (isMe) {
      item.classList.add("is-me");
      item.setAttribute("aria-current", "true");
    }
    if (own) item.classList.add("lb__row--own");
    item.appendChild(rowContent(row, t, isMe, isMe && !own, large));
    return item;
  }

  function header(t) {
    const head = make("div", "lb__head");
    head.setAttribute("aria-hidden", "true");
    head.appendChild(make("span", "lb__rank", "#"));
    head.appendChild(make("span", "lb__who", t.colExpert));
    head.appendChild(make("span", "lb__resolved", t.colResolved));
    head.appendChild(make("span", "lb__rating", t.colRating));
    head.appendChild(make("span", "lb__points", t.colPoints));
    return head;
  }

  function render(container, frame, options) {
    if (!container) return;
    options = options || {};
    const t = Object.assign({}, DEFAULTS, stringsFrom(container), options.strings || {});
    const large = Boolean(options.large || container.hasAttribute("data-lb-large"));
    const period = frame && PERIODS.includes(frame.period) ? frame.period : "week";

    // Keep keyboard focus on the same tab across re-renders.
    const focused = container.contains(document.activeElement) ? document.activeElement : null;
    const focusedPeriod = focused && focused.dataset ? focused.dataset.period : null;

    const board = make("div", "lb" + (large ? " lb--large" : ""));
    board.dataset.period = period;
    if (typeof options.onPeriod === "function") board.appendChild(tabs(period, t, options.onPeriod));

    if (!frame) {
      board.setAttribute("aria-busy", "true");
      board.appendChild(make("p", "lb__note lb__note--loading", t.loading));
      container.replaceChildren(board);
      return;
    }

    const rows = Array.isArray(frame.rows) ? frame.rows : [];
    const me = frame.me || null;
    if (!rows.length) {
      board.appendChild(make("p", "lb__note", t.empty));
    } else {
      if (large) board.appendChild(header(t));
      const list = make("ol", "lb__list");
      list.setAttribute("aria-label", t.list + " · " + t[period]);
      let meShown = false;
      for (const row of rows) {
        const isMe = Boolean(me && row.expert === me.expert);
        meShown = meShown || isMe;
        list.appendChild(rowItem(row, t, isMe, false, large));
      }
      if (me && !meShown) {
        const gap = make("li", "lb__gap");
        gap.setAttribute("role", "separator");
        gap.setAttribute("aria-label", t.more);
        for (let i = 0; i < 3; i += 1) gap.appendChild(make("i"));
        list.appendChild(gap);
        list.appendChild(rowItem(me, t, true, true, large));
      }
      board.appendChild(list);
    }

    container.replaceChildren(board);
    if (focusedPeriod) {
      const again = board.querySelector('.lb__tab[data-period="' + focusedPeriod + '"]');
      if (again) again.focus();
    }
  }

  window.Leaderboard = { render, stringsFrom, PERIODS };
})();
