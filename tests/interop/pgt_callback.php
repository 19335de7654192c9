<?php
// The proxy callback of a phpCAS proxy application, served (behind a TLS front) by `php -S`
// with this file as router: phpCAS stores the PGT it receives in the shared file storage.
// Environment: CAS_HOST, CAS_PORT, CAS_PATH, PGT_DIR.
require_once 'CAS.php';
if (getenv('PHPCAS_DEBUG')) { phpCAS::setDebug(getenv('PHPCAS_DEBUG')); }

// The TLS front terminates https; tell phpCAS, which refuses callbacks over plain http.
$_SERVER['HTTPS'] = 'on';
phpCAS::proxy(CAS_VERSION_2_0, getenv('CAS_HOST'), (int) getenv('CAS_PORT'), getenv('CAS_PATH'),
    'https://portal.interop.test', false);
phpCAS::setPGTStorageFile(getenv('PGT_DIR'));
phpCAS::setNoCasServerValidation();
// In callback mode this stores pgtIou => pgtId, answers 200 and stops.
phpCAS::checkAuthentication();
http_response_code(400);
echo "not a proxy callback\n";
