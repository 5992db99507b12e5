/* otflow partial migrate: creates or upgrades the partial_traces schema
 * (src/components/exporters/partial/partial_sql.h) in the database of every
 * partial exporter and receiver of a configuration, or in one database
 * given by --postgres. Idempotent; safe to run from several hosts at once
 * (advisory lock). The partial exporter runs the same migration at start
 * unless create_schema is false; this command is for databases where the
 * collector's role may not create tables. */
#include "cli/cli.h"
#include "components/exporters/partial/partial_pg.h"

#include "otflow/config.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: otflow partial migrate --config FILE [--config FILE ...]\n"
	      "       otflow partial migrate --postgres CONNSTR\n"
	      "Creates or upgrades the partial_traces table in the database of every\n"
	      "partial exporter/receiver of the configuration (or the one given).\n",
	      f);
}

static bool is_partial(const char *id)
{
	return !strcmp(id, "partial") || !strncmp(id, "partial/", 8);
}

static int add_unique(const char **list, size_t *n, size_t cap, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(list[i], s))
			return 0;
	if (*n == cap)
		return -1;
	list[(*n)++] = s;
	return 0;
}

static int migrate_one(const char *conninfo)
{
	char err[512];
	if (partial_pg_migrate_blocking(conninfo, err, sizeof err)) {
		fprintf(stderr, "otflow partial migrate: %s\n", err);
		return 1;
	}
	fprintf(stderr, "otflow partial migrate: schema up to date\n");
	return 0;
}

int otf_cli_partial(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "migrate")) {
		usage(argc < 2 || strcmp(argv[1], "--help") ? stderr : stdout);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	argc--;
	argv++;
	if (argc == 3 && !strcmp(argv[1], "--postgres"))
		return migrate_one(argv[2]);
	if (argc == 2 && !strncmp(argv[1], "--postgres=", 11))
		return migrate_one(argv[1] + 11);
	const char *paths[32];
	size_t n = 0;
	int rc = otf_cli_parse_configs(argc, argv, paths, 32, &n, NULL);
	if (rc) {
		usage(stderr);
		return rc;
	}
	otf_config_t *cfg = NULL;
	otf_config_error_t err;
	if (otf_config_load_files(paths, n, &cfg, &err)) {
		fprintf(stderr, "otflow: invalid configuration: %s\n", err.text);
		return 2;
	}
	const char *dbs[64];
	size_t ndb = 0;
	const char *sections[] = {"exporters", "receivers"};
	for (size_t s = 0; s < 2; s++) {
		const otf_config_node_t *sec = otf_config_get(otf_config_root(cfg), sections[s]);
		for (size_t i = 0; i < otf_config_len(sec); i++) {
			const otf_config_node_t *v = NULL;
			const char *id = otf_config_map_at(sec, i, &v);
			if (!id || !is_partial(id))
				continue;
			const char *pg = otf_config_scalar(otf_config_map_get(v, "postgres"), NULL);
			if (pg && pg[0])
				add_unique(dbs, &ndb, 64, pg);
		}
	}
	if (!ndb) {
		fprintf(stderr, "otflow partial migrate: no partial exporter or receiver with a "
		                "postgres setting in the configuration\n");
		otf_config_destroy(cfg);
		return 2;
	}
	int status = 0;
	for (size_t i = 0; i < ndb; i++)
		if (migrate_one(dbs[i]))
			status = 1;
	otf_config_destroy(cfg);
	return status;
}
