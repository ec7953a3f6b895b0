//! A small seeded generator (xorshift64*), so tests and benchmarks are
//! reproducible without a dependency.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A random edit of `text`, as `(start, end, insert)`: one of `pieces`
/// typed, or a range of up to `longest` bytes deleted or replaced by one.
pub fn random_edit(
    rng: &mut Rng,
    text: &str,
    pieces: &[&'static str],
    longest: usize,
) -> (usize, usize, &'static str) {
    let mut at = rng.below(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at
        + if rng.chance(40) {
            rng.below(longest)
        } else {
            0
        })
    .min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let insert = if end > at && rng.chance(50) {
        ""
    } else {
        *rng.pick(pieces)
    };
    (at, end, insert)
}

/// How many rounds a randomized test runs: `CIM_NIX_STRESS=N` runs N times
/// as many, from other seeds (1 by default).
pub fn stress_rounds() -> u64 {
    std::env::var("CIM_NIX_STRESS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}
