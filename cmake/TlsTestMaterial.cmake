# Throwaway TLS material for the TLS scenarios and tests, made at build time
# with the openssl command (no private key is ever committed):
#   ca.pem              a CA the tests trust
#   server.pem/.key     signed by it, for localhost and 127.0.0.1
#   untrusted-ca.pem    a second CA nobody trusts
#   untrusted.pem/.key  signed by that one, for the same names
# The directory is LOOPSPEC_TLS_DIR (compiled into the harness; the
# environment variable of the same name overrides it at run time).
find_program(LOOPSPEC_OPENSSL_COMMAND openssl REQUIRED)
set(LOOPSPEC_TLS_DIR "${CMAKE_BINARY_DIR}/tls")

set(_tls_dir "${LOOPSPEC_TLS_DIR}")
file(MAKE_DIRECTORY "${_tls_dir}")
# A configuration of its own, so the system's openssl.cnf changes nothing.
file(WRITE "${_tls_dir}/ca.cnf"
     "[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\n[dn]\n"
     "[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n"
     "subjectKeyIdentifier = hash\n")
file(WRITE "${_tls_dir}/server.ext"
     "basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n"
     "extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n"
     "authorityKeyIdentifier = keyid\n")

set(_openssl "${LOOPSPEC_OPENSSL_COMMAND}")
set(_new_key -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config ca.cnf)
set(_tls_outputs)
foreach(_ca ca untrusted-ca)
  add_custom_command(
    OUTPUT "${_tls_dir}/${_ca}.pem" "${_tls_dir}/${_ca}.key"
    COMMAND ${_openssl} req -x509 ${_new_key} -keyout ${_ca}.key -out ${_ca}.pem -days 3650
            -subj "/CN=loopspec ${_ca} (throwaway)"
    WORKING_DIRECTORY "${_tls_dir}"
    COMMENT "Generating the throwaway TLS authority ${_ca}"
    VERBATIM)
  list(APPEND _tls_outputs "${_tls_dir}/${_ca}.pem" "${_tls_dir}/${_ca}.key")
endforeach()
# name, signing authority, serial number
foreach(_cert "server;ca;1001" "untrusted;untrusted-ca;2001")
  list(GET _cert 0 _name)
  list(GET _cert 1 _ca)
  list(GET _cert 2 _serial)
  add_custom_command(
    OUTPUT "${_tls_dir}/${_name}.pem" "${_tls_dir}/${_name}.key"
    COMMAND ${_openssl} req -new ${_new_key} -keyout ${_name}.key -out ${_name}.csr -subj "/CN=localhost"
    COMMAND ${_openssl} x509 -req -in ${_name}.csr -CA ${_ca}.pem -CAkey ${_ca}.key -set_serial 0x${_serial}
            -days 3650 -extfile server.ext -out ${_name}.pem
    WORKING_DIRECTORY "${_tls_dir}"
    DEPENDS "${_tls_dir}/${_ca}.pem" "${_tls_dir}/${_ca}.key"
    COMMENT "Generating the throwaway TLS certificate ${_name}"
    VERBATIM)
  list(APPEND _tls_outputs "${_tls_dir}/${_name}.pem" "${_tls_dir}/${_name}.key")
endforeach()
add_custom_target(loopspec_tls_material ALL DEPENDS ${_tls_outputs})
