#!/usr/bin/env bash
# Dovecot configuration shared by the test environment (scripts/testenv-up.sh) and the
# bench Dovecot (scripts/bench-dovecot.sh). Source it, set the DC_* variables, then call
#   dovecot_conf >dovecot.conf                 the main configuration
#   dovecot_oauth2_conf PORT >oauth2.conf.ext  the oauth2 passdb (introspection at the
#                                               test provider on 127.0.0.1:PORT)
#
# DC_HEADER         first line (a comment naming the script that wrote the file)
# DC_INSTANCE       instance_name
# DC_BASE_DIR, DC_STATE_DIR, DC_LOG
# DC_CERT, DC_KEY   PEM files
# DC_INTERNAL_USER, DC_LOGIN_USER, DC_MAIL_UID, DC_MAIL_GID
# DC_IMAP_PORT, DC_IMAPS_PORT   plain/STARTTLS and implicit-TLS listeners on 127.0.0.1
# DC_PASSWD         passwd-file of the password user
# DC_OAUTH2_CONF    the oauth2 passdb's file ("": no XOAUTH2/OAUTHBEARER)
# DC_HOME           homes are DC_HOME/USER
# DC_SPECIAL_USE    1: Drafts, Sent and Trash carry their special-use flags
# DC_MAX_USERIP     mail_max_userip_connections ("": Dovecot's default)

dovecot_oauth2_conf() {
  cat <<CONF
introspection_mode = post
force_introspection = yes
introspection_url = http://mailmover-native:@127.0.0.1:$1/oauth/introspect
active_attribute = active
active_value = true
username_attribute = preferred_username
CONF
}

dovecot_conf() {
  local mechs="plain login"
  [ -n "${DC_OAUTH2_CONF:-}" ] && mechs="plain login xoauth2 oauthbearer"
  cat <<CONF
$DC_HEADER
instance_name = $DC_INSTANCE
base_dir = $DC_BASE_DIR
state_dir = $DC_STATE_DIR
log_path = $DC_LOG
info_log_path = $DC_LOG
listen = 127.0.0.1
protocols = imap
default_internal_user = $DC_INTERNAL_USER
default_login_user = $DC_LOGIN_USER
first_valid_uid = 1
ssl = yes
ssl_cert = <$DC_CERT
ssl_key = <$DC_KEY
disable_plaintext_auth = no
auth_mechanisms = $mechs
auth_failure_delay = 0
auth_verbose = yes
mail_location = maildir:~/Maildir
CONF
  [ -n "${DC_MAX_USERIP:-}" ] && echo "mail_max_userip_connections = $DC_MAX_USERIP"
  echo "namespace inbox {"
  echo "  inbox = yes"
  echo "  separator = /"
  if [ "${DC_SPECIAL_USE:-}" = 1 ]; then
    cat <<'CONF'
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Trash {
    special_use = \Trash
  }
CONF
  fi
  cat <<CONF
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DC_IMAPS_PORT
    ssl = yes
  }
  # One login process per connection (the secure default) stays for the life of a TLS
  # connection: allow the fleet benchmark's many profiles (Dovecot's default is 100).
  process_limit = 500
}
# No auth penalty socket: without it the auth process skips the per-IP penalty that
# otherwise delays each sign-in after a failure by up to 15 s (tests fail on purpose).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC_PASSWD
CONF
  if [ -n "${DC_OAUTH2_CONF:-}" ]; then
    cat <<CONF
  mechanisms = plain login
}
passdb {
  driver = oauth2
  args = $DC_OAUTH2_CONF
  mechanisms = xoauth2 oauthbearer
CONF
  fi
  cat <<CONF
}
userdb {
  driver = static
  args = uid=$DC_MAIL_UID gid=$DC_MAIL_GID home=$DC_HOME/%u allow_all_users=yes
}
CONF
}
