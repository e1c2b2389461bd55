// Inline SVG icons (24x24 grid, stroked with currentColor), drawn for Relevé.

const P = {
  home: '<path d="M3 11.5 12 4l9 7.5"/><path d="M5.5 9.5V20h13V9.5"/><path d="M10 20v-5.5h4V20"/>',
  meters: '<circle cx="12" cy="13" r="7.5"/><path d="M12 13l3.5-3.5"/><path d="M8 4.5h8"/><path d="M8.5 16.5h7"/>',
  map: '<path d="M9 4 3.5 6v14L9 18l6 2 5.5-2V4L15 6 9 4z"/><path d="M9 4v14"/><path d="M15 6v14"/>',
  infocodes: '<path d="M12 3.5 21 19.5H3L12 3.5z"/><path d="M12 10v4.5"/><circle cx="12" cy="17" r=".6" fill="currentColor"/>',
  reports: '<rect x="4.5" y="3.5" width="15" height="17" rx="1.5"/><path d="M8.5 16.5v-3"/><path d="M12 16.5v-6"/><path d="M15.5 16.5V8"/>',
  import: '<path d="M12 3.5v11"/><path d="M7.5 10 12 14.5 16.5 10"/><path d="M4 15.5v3.5h16v-3.5"/>',
  export: '<path d="M12 14.5v-11"/><path d="M7.5 8 12 3.5 16.5 8"/><path d="M4 15.5v3.5h16v-3.5"/>',
  settings: '<circle cx="12" cy="12" r="3"/><path d="M12 2.8v2.6M12 18.6v2.6M2.8 12h2.6M18.6 12h2.6M5.5 5.5l1.8 1.8M16.7 16.7l1.8 1.8M5.5 18.5l1.8-1.8M16.7 7.3l1.8-1.8"/>',
  logout: '<path d="M14 4.5H19.5v15H14"/><path d="M10.5 8 6.5 12l4 4"/><path d="M6.5 12h10"/>',
  user: '<circle cx="12" cy="8.5" r="3.8"/><path d="M4.5 20c1.2-3.8 4-5.5 7.5-5.5s6.3 1.7 7.5 5.5"/>',
  search: '<circle cx="10.5" cy="10.5" r="6"/><path d="m15 15 5 5"/>',
  warning: '<path d="M12 3.5 21 19.5H3L12 3.5z" fill="currentColor" stroke="none"/><path d="M12 9.5v4.5" stroke="#fff" stroke-width="2"/><circle cx="12" cy="16.8" r="1.1" fill="#fff" stroke="none"/>',
  chevronLeft: '<path d="M14.5 5.5 8 12l6.5 6.5"/>',
  chevronRight: '<path d="M9.5 5.5 16 12l-6.5 6.5"/>',
  arrowUp: '<path d="M12 19V5"/><path d="M6 11l6-6 6 6"/>',
  arrowDown: '<path d="M12 5v14"/><path d="M6 13l6 6 6-6"/>',
  sortAsc: '<path d="M8 15l4-5 4 5z" fill="currentColor" stroke="none"/>',
  sortDesc: '<path d="M8 10l4 5 4-5z" fill="currentColor" stroke="none"/>',
  sortNone: '<path d="M9 10.5l3-3.5 3 3.5z M9 13.5l3 3.5 3-3.5z" fill="currentColor" stroke="none" opacity=".35"/>',
  water: '<path d="M12 3.5c3.2 4.2 6 7.5 6 10.8a6 6 0 0 1-12 0c0-3.3 2.8-6.6 6-10.8z"/>',
  heat: '<path d="M10 14.5V5a2 2 0 0 1 4 0v9.5a3.8 3.8 0 1 1-4 0z"/><path d="M12 9v6.5"/>',
  electricity: '<path d="M13.5 3 5.5 13.5H12L10.5 21l8-10.5H12L13.5 3z"/>',
  gas: '<path d="M12 3.5c1 3 5 5.3 5 10a5 5 0 0 1-10 0c0-2.2 1-3.8 2.3-5 .2 1.8 1 2.8 2 3.2-.6-2.8-.3-5.6.7-8.2z"/>',
  other: '<circle cx="12" cy="12" r="7.5"/><path d="M12 8v4l2.5 2"/>',
  file: '<path d="M6 3.5h8l4 4v13H6z"/><path d="M14 3.5v4h4"/>',
  upload: '<path d="M12 15V4.5"/><path d="M7.5 9 12 4.5 16.5 9"/><path d="M5 14.5v5h14v-5"/>',
  check: '<path d="M5 12.5l4.5 4.5L19 7.5"/>',
  clock: '<circle cx="12" cy="12" r="8"/><path d="M12 7.5V12l3 2"/>',
  pin: '<path d="M12 21s-6.5-6-6.5-11a6.5 6.5 0 0 1 13 0c0 5-6.5 11-6.5 11z"/><circle cx="12" cy="10" r="2.3"/>',
  construction: '<rect x="3.5" y="8" width="17" height="6" rx="1"/><path d="M7 8l-3 6M12 8l-3 6M17 8l-3 6M20.5 9.5 18 14"/><path d="M6 14v6M18 14v6"/>',
  groups: '<rect x="3.5" y="4.5" width="7" height="7" rx="1.5"/><rect x="13.5" y="4.5" width="7" height="7" rx="1.5"/><rect x="3.5" y="14" width="7" height="6" rx="1.5"/><path d="M17 14v6M14 17h6"/>',
  select: '<path d="M4 8V4h4M16 4h4v4M20 16v4h-4M8 20H4v-4" /><path d="M10 4h4M10 20h4M4 10v4M20 10v4" opacity=".6"/>',
  download: '<path d="M12 3.5v11"/><path d="M7.5 10 12 14.5 16.5 10"/><path d="M4 17.5V20h16v-2.5"/>',
  trash: '<path d="M4.5 7h15"/><path d="M9.5 7V4.5h5V7"/><path d="M6.5 7l1 12.5h9l1-12.5"/>',
  edit: '<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="M13.5 6.5l4 4"/>',
  live: '<path d="M3 12h4l2.5-6 5 12 2.5-6h4"/>',
  antenna: '<circle cx="12" cy="10" r="1.6"/><path d="M12 11.6V20.5"/><path d="M8.6 6.6a4.8 4.8 0 0 0 0 6.8M15.4 6.6a4.8 4.8 0 0 1 0 6.8"/><path d="M5.8 3.8a8.8 8.8 0 0 0 0 12.4M18.2 3.8a8.8 8.8 0 0 1 0 12.4"/>',
  plus: '<path d="M12 5v14M5 12h14"/>',
  chart: '<path d="M4 20h16"/><path d="M4 20V4"/><path d="M8 16.5v-4"/><path d="M12 16.5V8"/><path d="M16 16.5v-6"/>',
  globe: '<circle cx="12" cy="12" r="8.5"/><path d="M3.5 12h17"/><path d="M12 3.5c2.5 2.5 3.5 5.5 3.5 8.5s-1 6-3.5 8.5c-2.5-2.5-3.5-5.5-3.5-8.5s1-6 3.5-8.5z"/>',
  logo: '<circle cx="12" cy="12" r="8.5"/><path d="M12 12 16.5 7.5"/><path d="M7 15.5h10"/><circle cx="12" cy="12" r="1.2" fill="currentColor"/>',
};

export function icon(name, cls = "") {
  const body = P[name] || P.other;
  return `<svg class="icon ${cls}" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;
}

export function deviceIcon(type) {
  return icon(P[type] ? type : "other", "dev-" + (P[type] ? type : "other"));
}
