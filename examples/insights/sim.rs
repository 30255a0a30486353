//! Synthetic programs with a known answer: daily series with a trend, a weekly season
//! and over-dispersed noise, and partners' daily facts with injected fraud. Seeded, so
//! every run sees the same data.

use chrono::{Datelike, Duration, NaiveDate};

/// xorshift64*: small, fast and good enough for simulation.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Poisson by inversion for small means, normal approximation above 60.
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 60.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }

    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if n > 200 {
            let mean = n as f64 * p;
            let sd = (mean * (1.0 - p)).sqrt();
            return (mean + sd * self.normal()).round().clamp(0.0, n as f64) as u64;
        }
        (0..n).filter(|_| self.uniform() < p).count() as u64
    }

    /// Gamma(shape, 1/shape): mean 1, variance 1/shape (Marsaglia–Tsang, shape ≥ 1).
    pub fn gamma_unit(&mut self, shape: f64) -> f64 {
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v > 0.0 && self.uniform().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v / shape;
            }
        }
    }
}

/// A daily count series: `level` a day at the start, growing by `growth` a day, times a
/// weekly profile, with negative-binomial noise (Poisson around a gamma-varying mean).
pub struct SeriesShape {
    pub level: f64,
    pub growth: f64,
    /// Monday first.
    pub weekly: [f64; 7],
    /// Gamma shape of the day-to-day variation of the mean (larger: closer to Poisson).
    pub dispersion: f64,
}

impl SeriesShape {
    pub fn draw(rng: &mut Rng) -> Self {
        let weekend = rng.between(0.45, 0.9);
        let mut weekly = [1.0; 7];
        for (i, w) in weekly.iter_mut().enumerate() {
            *w = if i >= 5 {
                weekend
            } else {
                rng.between(0.9, 1.15)
            };
        }
        Self {
            level: rng.between(15.0, 300.0),
            growth: rng.between(-0.001, 0.003),
            weekly,
            dispersion: rng.between(8.0, 40.0),
        }
    }

    /// The expected value of day `t` (counted from `start`).
    pub fn mean(&self, start: NaiveDate, t: usize) -> f64 {
        let day = start + Duration::days(t as i64);
        let weekday = day.weekday().num_days_from_monday() as usize;
        self.level * (1.0 + self.growth).powi(t as i32) * self.weekly[weekday]
    }

    pub fn sample(&self, rng: &mut Rng, start: NaiveDate, days: usize) -> Vec<f64> {
        (0..days)
            .map(|t| {
                let varied = self.mean(start, t) * rng.gamma_unit(self.dispersion);
                rng.poisson(varied) as f64
            })
            .collect()
    }
}
