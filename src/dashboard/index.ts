export { dashboard } from './dashboard.js';
export { DashboardServer, type DashboardOptions, type DashboardInfo } from './dashboardServer.js';
export { DashboardStore, resolveStoreOptions, type DashboardEvent, type DashboardCounters, type DashboardStoreOptions, type AlertEntry, type StreamRow, type StreamSort } from './dashboardStore.js';
export { StreamHistory, type SeriesColumns } from './streamHistory.js';
