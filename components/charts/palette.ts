/** Chart colours; each pairs with a text label or legend, so colour never carries meaning alone. */
export const COLORS = {
  accuracy: "#1f77b4",
  loss: "#d62728",
  accepted: "#2ca02c",
  rejected: "#d62728",
  excluded: "#ff7f0e",
  reputation: "#1f77b4",
  influence: "#9467bd",
  score: "#d62728",
  threshold: "#7f7f7f",
  positive: "#d62728",
  negative: "#1f77b4",
  base: "#7f7f7f",
  series: ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"],
} as const;

export const CHART_HEIGHT = 260;
