package alert

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// The webhook bodies. What the receivers accept:
//   - generic: any JSON; MailMover's Alert (a text and the alert's fields).
//   - slack: a Slack incoming webhook takes {"text": …} (mrkdwn, with &, < and > escaped);
//     its "attachments" field means something else there, so nothing else is sent.
//   - teams: a Teams Workflows webhook ("When a Teams webhook request is received") takes
//     any JSON, but the ready-made template "Send webhook alerts to a channel" posts each
//     Adaptive Card of the body's "attachments" array and fails on a body without one
//     (Workflows take Adaptive Cards only, not the old connectors' MessageCard). So the
//     body is a message with one Adaptive Card, plus the generic fields for flows built
//     by hand (triggerBody()?['profile']).

// payload returns the JSON body of a in format (store.FormatGeneric, FormatSlack,
// FormatTeams).
func payload(a Alert, format string) ([]byte, error) {
	switch format {
	case store.FormatSlack:
		return json.Marshal(slackBody{Text: slackText(a)})
	case store.FormatTeams:
		return json.Marshal(teamsBody{Alert: a, Type: "message", Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive", Content: adaptiveCard(a)}}})
	}
	return json.Marshal(a)
}

type slackBody struct {
	Text string `json:"text"`
}

// slackText is the alert's text in Slack's mrkdwn: the title in bold, &, < and > escaped.
func slackText(a Alert) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	lines := []string{"*" + esc.Replace(a.Title) + "*"}
	for _, l := range []string{a.Reason, a.Advice} {
		if l != "" {
			lines = append(lines, esc.Replace(l))
		}
	}
	return strings.Join(lines, "\n")
}

type teamsBody struct {
	Alert
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     card    `json:"content"`
}

type card struct {
	Schema  string `json:"$schema"`
	Type    string `json:"type"`
	Version string `json:"version"`
	Body    []any  `json:"body"`
}

type textBlock struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Wrap   bool   `json:"wrap"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Color  string `json:"color,omitempty"`
}

type factSet struct {
	Type  string `json:"type"`
	Facts []fact `json:"facts"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// adaptiveCard shows the alert as an Adaptive Card 1.4 (what Teams renders): the title
// coloured by kind, the reason, the advice, and the facts.
func adaptiveCard(a Alert) card {
	color := "Attention"
	switch a.Event {
	case store.AlertRecovered:
		color = "Good"
	case store.AlertLapse:
		color = "Warning"
	}
	body := []any{textBlock{Type: "TextBlock", Text: a.Title, Wrap: true, Weight: "Bolder", Size: "Medium", Color: color}}
	for _, l := range []string{a.Reason, a.Advice} {
		if l != "" {
			body = append(body, textBlock{Type: "TextBlock", Text: l, Wrap: true})
		}
	}
	when := func(t time.Time) string { return t.Local().Format("2006-01-02 15:04 MST") }
	facts := []fact{{i18n.T("Profile"), a.Profile}, {i18n.T("State"), a.State}}
	if !a.Since.IsZero() {
		facts = append(facts, fact{i18n.T("Since"), when(a.Since)})
	}
	if a.Retries > 0 {
		facts = append(facts, fact{i18n.T("Failed attempts in a row"), strconv.Itoa(a.Retries)})
	}
	if !a.SignInLapse.IsZero() {
		facts = append(facts, fact{i18n.T("Sign-in lapses"), a.SignInLapse.Local().Format(time.DateOnly)})
	}
	facts = append(facts, fact{i18n.T("Computer"), a.Host}, fact{i18n.T("Time"), when(a.Time)})
	body = append(body, factSet{Type: "FactSet", Facts: facts})
	return card{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4", Body: body}
}

// environment returns the alert as MAILMOVER_* variables for a command.
func environment(a Alert) []string {
	t := func(x time.Time) string {
		if x.IsZero() {
			return ""
		}
		return x.Format(time.RFC3339)
	}
	vars := [][2]string{
		{"MAILMOVER_EVENT", a.Event}, {"MAILMOVER_PROFILE", a.Profile}, {"MAILMOVER_STATE", a.State},
		{"MAILMOVER_SINCE", t(a.Since)}, {"MAILMOVER_TITLE", a.Title}, {"MAILMOVER_TEXT", a.Text},
		{"MAILMOVER_REASON", a.Reason}, {"MAILMOVER_ADVICE", a.Advice}, {"MAILMOVER_RETRIES", strconv.Itoa(a.Retries)},
		{"MAILMOVER_SIGN_IN_LAPSE", t(a.SignInLapse)}, {"MAILMOVER_PREVIOUS", strings.Join(a.Previous, ",")},
		{"MAILMOVER_TIME", t(a.Time)}, {"MAILMOVER_HOST", a.Host},
	}
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v[0] + "=" + strings.ReplaceAll(v[1], "\x00", "")
	}
	return out
}
