// Package aggregator will turn raw events into rollups and anonymised,
// shareable aggregates (footfall aggregate, footfall export). It holds no
// code yet: the walking skeleton reads raw counts straight from the store.
package aggregator
