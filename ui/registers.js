// What a register id means for the screens. Electricity is read from the id's prefix, so
// tariff registers (a_plus_t1, a_minus_t2, ...) follow their totals: a_plus* is energy
// imported and a_minus* energy exported (cumulative, kWh), p_plus*/p_minus* power (kW,
// a value at an instant: its buckets hold the mean and the max, never a sum).
import { t, registerLabel } from "./i18n.js";

const INDEX = ["volume", "energy", "hca", "target_volume", "target_energy", "target_hca"];

export const isImport = (id) => /^a_plus/.test(id || "");
export const isExport = (id) => /^a_minus/.test(id || "");
export const isEnergyFlow = (id) => isImport(id) || isExport(id);
export const isPower = (id) => /^p_(plus|minus)/.test(id || "");
/** Registers that count up: their buckets are consumptions and add up. */
export const isCumulative = (id) => INDEX.includes(id) || isEnergyFlow(id);

/** The tariff of an energy register: "" for the total, "1" for a_plus_t1, null otherwise. */
export function tariffOf(id) {
  const m = /^a_(?:plus|minus)(?:_t(\d+))?$/.exec(id || "");
  return m ? (m[1] || "") : null;
}

/** The export register that goes with an import one (a_plus_t1 -> a_minus_t1). */
export const exportOf = (importId) => importId.replace(/^a_plus/, "a_minus");
export const importId = (tariff) => (tariff ? `a_plus_t${tariff}` : "a_plus");

/** A register's words, tariffs included before their own words exist in i18n.js. */
export function registerName(id, fallback) {
  const tariff = tariffOf(id);
  if (tariff) {
    const base = registerLabel(id.replace(/_t\d+$/, ""));
    const own = registerLabel(id, "");
    return own && own !== id ? own : `${base} — ${t("elec.tariff", { n: tariff })}`;
  }
  return registerLabel(id, fallback);
}
