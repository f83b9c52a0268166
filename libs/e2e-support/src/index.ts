// Shared helpers of the end-to-end suites and the benchmarks: real API
// processes, nginx, an HTTP fake instance, the open-loop load generator and
// condition waits. Tests and benchmarks only (tag type:test-support).
export { API_MAIN, CLI_MAIN, DEPLOYMENT_DIR, requireBuilt, SHIPPED_NGINX_CONF, WORKSPACE } from './lib/workspace';
export { waitFor, type Probe } from './lib/wait-for';
export { ApiRelease } from './lib/api-release';
export { accepts, freePort } from './lib/net';
export { getJson, http, httpRequest, postJson, slowPost, type Answer, type HttpAnswer, type HttpOptions, type SlowPost } from './lib/http';
export { chromiumMentioning, isAlive, killLeftoverApis, processParents, processTree, profileOwners, pssKb, readPid, removeProfilesOf, rssKb, runMarkerEnv, stopProcesses, track } from './lib/processes';
export { apiStartCommand, runApi, startApi, waitReady, type ApiEnv, type ApiOptions, type ApiProcess, type Exit, type SpawnedApi } from './lib/api-process';
export { runCli, runProgram, type ProgramOptions, type ProgramRun, type RunningProgram } from './lib/run-program';
export { NGINX_BIN, renderServerConfig, testNginxConfig, wrapInMainConfig, writeNginxFiles, type NginxFiles } from './lib/nginx-config';
export { nginxProblems, startNginx, startNginxForLoad, type RunningNginx, type StartNginxOptions } from './lib/nginx';
export { startFakeInstance, type FakeInstance, type InstanceMode } from './lib/fake-instance';
export { epochNow, startLoad, type LoadOptions, type LoadRequest, type LoadRun, type RequestRecord, type RunningLoad } from './lib/load-generator';
export { LOAD_API_ENV, qcMix, requestOf, STATS_ONLY, type LoadMix } from './lib/load-mix';
export {
  formatSummary, isFailure, lagStats, outcomeGaps, percentile, sendLag, summarize, windowStats,
  type LagStats, type LoadSummary, type LoadWindow, type WindowStats,
} from './lib/load-report';
export { ClientPool, dueRange, plannedCount, scheduledAt, type ClientPick } from './lib/load-schedule';
export { realtimeAllowed, startLoadProcess, type LoadProcess, type LoadProcessGc, type LoadProcessPlacement, type LoadProcessReport, type LoadProcessSpec } from './lib/load-process-client';
export { judgeLoad, type FaultExcuses, type LoadVerdict } from './lib/load-verdict';
export { acceptedClientPorts, listenerHolders, openFds, socketInodes } from './lib/sockets';
