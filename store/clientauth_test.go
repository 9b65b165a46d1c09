package store

import (
	"reflect"
	"strings"
	"testing"
)

// The app-only keys (client_auth, client_certificate_file, service_account_file) are
// written for the flows that use them, read back unchanged, and left out of the other
// flows' files.
func TestEncodeAppOnlyKeys(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Profile)
		want   []string // lines the file holds
		absent []string
	}{
		{"certificate", func(p *Profile) {
			p.OAuth2.Flow, p.OAuth2.ClientAuth, p.OAuth2.ClientCertificateFile = FlowClientCredentials, ClientAuthCertificate, "/etc/mailmover/app.pem"
		}, []string{`client_auth = "certificate"`, `client_certificate_file = "/etc/mailmover/app.pem"`}, []string{"service_account_file"}},
		{"service account", func(p *Profile) {
			p.OAuth2.Preset, p.OAuth2.Tenant, p.OAuth2.Flow, p.OAuth2.ServiceAccountFile = PresetGoogle, "", FlowServiceAccount, "~/sa.json"
		}, []string{`flow = "service_account"`, `service_account_file = "~/sa.json"`}, []string{"client_auth", "client_certificate_file"}},
		{"authcode", func(p *Profile) {}, nil, []string{"client_auth", "client_certificate_file", "service_account_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("x")
			tt.change(p)
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := EncodeProfile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("file lacks %s:\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(string(out), a+" =") {
					t.Errorf("file has %s:\n%s", a, out)
				}
			}
			back, err := ParseProfile("x", out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.OAuth2, p.OAuth2) {
				t.Errorf("read back %+v, want %+v", back.OAuth2, p.OAuth2)
			}
		})
	}
}
