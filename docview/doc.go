// Package docview is the capability-neutral view model of a received
// message's content: what a person reads on screen, as a title and
// sections of labelled rows, with nothing left to interpret.
//
// Each receiver capability handler (Update Record, and any later one)
// turns the structured content it understands into a [View]; the web UI
// renders every View with one generic template, without importing the
// capability's package. The package knows no capability, no FHIR and no
// code system: a View carries display text only, already formatted (dates,
// names, coded concepts with their code), so that the template stays free
// of decisions.
package docview
