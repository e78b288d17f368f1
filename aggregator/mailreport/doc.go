// Package mailreport sends the scheduled e-mail reports: after each
// aggregation pass, for every site whose configuration lists reports, the
// last finished period (day, Monday-to-Sunday week or month, in the site's
// zone) is summarised by the report planner — key figures, top pages and
// top sources against the previous period — rendered as plain text and
// HTML, and sent over SMTP to each recipient who has not had it and has not
// unsubscribed.
//
// What was sent is recorded in the store (report_sends, by a hash of the
// address, after the server accepted the message), so a period goes once
// to each recipient, restarts included; a crash between the server's
// acceptance and the record sends that one message again at the next
// pass. A message the server refuses is tried again with a doubling wait
// within the pass, then at the next pass. Each message carries its
// recipient's unsubscribe link (a token signed with the store's report
// key: site and hashed address) in its body and its List-Unsubscribe
// header; web/unsubscribe records the click.
//
// Addresses are never logged: logs name the site, the period and counts.
package mailreport
