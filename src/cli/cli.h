/* otflow command-line subcommands. Each returns the process exit code:
 * 0 success, 1 runtime failure, 2 usage or configuration error. */
#ifndef OTF_CLI_H
#define OTF_CLI_H

#include "otflow/service.h"

#include <stddef.h>
#include <stdio.h>

int otf_cli_pdata(int argc, char **argv);
int otf_cli_run(int argc, char **argv);
int otf_cli_validate(int argc, char **argv);
int otf_cli_print_dag(int argc, char **argv);
int otf_cli_components(int argc, char **argv);
int otf_cli_partial(int argc, char **argv);
int otf_cli_mmap(int argc, char **argv);

/* cli_config.c */
/* Loads a plugin (--plugin PATH); 0, or 2 after printing the error. */
int otf_cli_load_plugin(const char *path);
int otf_cli_parse_configs(int argc, char **argv, const char **paths, size_t cap, size_t *n,
                          const char **format);
int otf_cli_load(const char **paths, size_t n, otf_config_t **cfg, otf_dag_t **dag,
                 otf_service_settings_t *settings);
/* validate's report: every component the service uses (pipelines and
 * service.extensions of a Collector-format file), one line each with its
 * kind, id and stability per signal it is used for. */
void otf_cli_print_used(const otf_config_t *cfg, FILE *out);

/* cli_admin.c: the metrics (Prometheus text) and health_check endpoints on
 * the main thread's loop. */
struct uv_loop_s;
typedef struct otf_admin otf_admin_t;
int otf_admin_start(struct uv_loop_s *loop, const otf_service_settings_t *s, otf_engine_t *engine,
                    const otf_dag_t *dag, otf_admin_t **out);
void otf_admin_set_ready(otf_admin_t *a, int ready);
/* The config running (its service.pipelines group health_check's v2
 * status); borrowed until otf_admin_stop. */
void otf_admin_set_config(otf_admin_t *a, const otf_config_t *cfg);
void otf_admin_stop(otf_admin_t *a);

/* cli_reload.c: SIGHUP reloads paths[0..n) (kept by the caller); cfg
 * is the configuration running (still the caller's), level its log
 * level. run: on the main loop, with the engine running. */
typedef struct otf_cli_reload otf_cli_reload_t;
otf_cli_reload_t *otf_cli_reload_create(const char *const *paths, size_t n, otf_config_t *cfg,
                                        otf_log_level_t level);
void otf_cli_reload_run(otf_cli_reload_t *r, otf_engine_t *engine);
/* The configuration the last applied reload loaded (or the first one):
 * the pipelines health_check reports. Kept until destroy. */
const otf_config_t *otf_cli_reload_config(const otf_cli_reload_t *r);
void otf_cli_reload_destroy(otf_cli_reload_t *r);

/* cli_memtrim.c: malloc_tune at process start (one malloc arena);
 * memtrim_start once the workers run: the steady-state malloc thresholds,
 * and a 1 s timer on loop (unref'd) that gives the memory freed after a
 * burst back to the kernel; NULL when out of memory (no timer then).
 * stop: closes it (the loop must run once more to free it). */
void otf_cli_malloc_tune(void);
typedef struct otf_cli_memtrim otf_cli_memtrim_t;
struct uv_loop_s;
otf_cli_memtrim_t *otf_cli_memtrim_start(struct uv_loop_s *loop);
void otf_cli_memtrim_stop(otf_cli_memtrim_t *t);

#endif
