# Test certificates made at test time with the openssl command (nothing
# secret is committed). Sourced by the TLS tests; tls_make_certs DIR writes:
#   ca.pem ca.key         a CA
#   ca2.pem ca2.key       a second, unrelated CA
#   server.pem server.key for localhost and 127.0.0.1, signed by ca
#   server2.pem           the same key, another serial (rotation)
#   client.pem client.key a client certificate (CN=otflow-test-client) from ca
#   client2.pem client2.key a client certificate from ca2
#   expired.pem expired.key a server certificate from ca that expired in 2020
# EC P-256 keys: fast to make on a loaded machine.

# tls__sign NAME CA SUBJ EXT [start end]: NAME.key + NAME.pem signed by CA.
tls__sign() {
	local name=$1 ca=$2 subj=$3 ext=$4 start=${5:-} end=${6:-}
	openssl ecparam -name prime256v1 -genkey -noout -out "$name.key" 2>/dev/null || return 1
	openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null || return 1
	if [ -z "$start" ]; then
		openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
			-days 30 -extfile "$ext" -out "$name.pem" 2>/dev/null || return 1
	else
		# openssl x509 cannot backdate: openssl ca with explicit dates.
		mkdir -p "$name.db"
		: >"$name.db/index"
		cat >"$name.db/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $name.db/index
new_certs_dir = $name.db
serial = $name.db/serial
default_md = sha256
policy = p
copy_extensions = none
[p]
commonName = supplied
CNF
		echo 1001 >"$name.db/serial"
		openssl ca -batch -config "$name.db/ca.cnf" -cert "$ca.pem" -keyfile "$ca.key" \
			-in "$name.csr" -startdate "$start" -enddate "$end" -extfile "$ext" \
			-out "$name.pem" -notext 2>/dev/null || return 1
	fi
}

tls_make_certs() {
	local d=$1
	mkdir -p "$d" && (
		cd "$d" || exit 1
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext
		printf 'extendedKeyUsage=clientAuth\n' >cli.ext
		for ca in ca ca2; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-keyout $ca.key -out $ca.pem -days 30 -subj "/CN=otflow test $ca" \
				2>/dev/null || exit 1
		done
		tls__sign server ca "/CN=localhost" srv.ext || exit 1
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
			-extfile srv.ext -out server2.pem 2>/dev/null || exit 1
		tls__sign client ca "/CN=otflow-test-client/O=otflow tests" cli.ext || exit 1
		tls__sign client2 ca2 "/CN=otflow-other-client" cli.ext || exit 1
		tls__sign expired ca "/CN=localhost" srv.ext 20190101000000Z 20200101000000Z || exit 1
	)
}
