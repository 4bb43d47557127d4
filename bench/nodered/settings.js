// Node-RED settings for bench/ws_to_osc.py: no editor, no HTTP server, quiet logs.
// The flow reads STOVELIGHT_BENCH_WS_URL and STOVELIGHT_BENCH_OSC_PORT from the environment.
module.exports = {
    httpAdminRoot: false,
    httpNodeRoot: false,
    credentialSecret: false,
    flowFilePretty: false,
    logging: { console: { level: "warn", metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false } },
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false },
    functionExternalModules: false,
    exportGlobalContextKeys: false,
};
