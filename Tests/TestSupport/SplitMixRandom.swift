import EventLoop

/// Deterministic SplitMix64 pseudo-random numbers, so randomised tests are reproducible from their seed: EventLoop's
/// generator under the name the tests use.
public typealias SplitMixRandom = SplitMix64
