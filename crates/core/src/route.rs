//! A re-read route: the order to drive past meters, from their GPS positions (pure).
//!
//! Nearest neighbour from the start point, then 2-opt (reverse a stretch of the route when
//! that shortens it) until no reversal helps or the time budget is spent. Distances are
//! straight lines on a local flat projection (metres): a town or a district, where roads
//! follow the straight line well enough to order the stops.

use std::time::{Duration, Instant};

/// The Earth's mean radius.
const EARTH_M: f64 = 6_371_000.0;

/// A position: latitude, longitude (degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// Points projected to metres around their mean latitude.
fn project(points: &[Point], start: Point) -> (Vec<(f64, f64)>, (f64, f64)) {
    let lat0 = points.iter().map(|p| p.lat).sum::<f64>() / points.len().max(1) as f64;
    let k = lat0.to_radians().cos();
    let f = |p: &Point| (p.lon.to_radians() * k * EARTH_M, p.lat.to_radians() * EARTH_M);
    (points.iter().map(f).collect(), f(&start))
}

fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// The straight-line distance in metres between two positions (haversine).
pub fn metres(a: Point, b: Point) -> f64 {
    let (p1, p2) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = p2 - p1;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_M * h.sqrt().asin()
}

/// The order (indexes into `points`) to visit every point starting from `start`, found
/// within about `budget`.
pub fn order(points: &[Point], start: Point, budget: Duration) -> Vec<usize> {
    let t0 = Instant::now();
    let n = points.len();
    if n <= 1 {
        return (0..n).collect();
    }
    let (xy, s) = project(points, start);
    // Nearest neighbour over a grid of cells about 3 points each (the same choice as a
    // scan of every point, found in the rings of cells around the current one).
    let (minx, maxx) = xy.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (miny, maxy) = xy.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let side = ((n as f64 / 3.0).sqrt().ceil() as usize).clamp(1, 2048);
    let cw = ((maxx - minx) / side as f64).max(1e-6);
    let ch = ((maxy - miny) / side as f64).max(1e-6);
    let cell_of = |p: (f64, f64)| {
        let cx = (((p.0 - minx) / cw) as usize).min(side - 1);
        let cy = (((p.1 - miny) / ch) as usize).min(side - 1);
        (cx, cy)
    };
    let mut cells: Vec<Vec<usize>> = vec![Vec::new(); side * side];
    for (i, p) in xy.iter().enumerate() {
        let (cx, cy) = cell_of(*p);
        cells[cy * side + cx].push(i);
    }
    let mut left = n;
    let mut route = Vec::with_capacity(n);
    let mut at = s;
    while left > 0 {
        let (cx, cy) = {
            let x = (((at.0 - minx) / cw).max(0.0) as usize).min(side - 1);
            let y = (((at.1 - miny) / ch).max(0.0) as usize).min(side - 1);
            (x, y)
        };
        let mut best: Option<(f64, usize, usize)> = None; // (distance, cell, position in cell)
        let mut r = 0usize;
        loop {
            // Ring r of cells around (cx, cy).
            let (x0, x1) = (cx.saturating_sub(r), (cx + r).min(side - 1));
            let (y0, y1) = (cy.saturating_sub(r), (cy + r).min(side - 1));
            for y in y0..=y1 {
                for x in x0..=x1 {
                    if x.abs_diff(cx) != r && y.abs_diff(cy) != r {
                        continue;
                    }
                    let c = y * side + x;
                    for (k, &i) in cells[c].iter().enumerate() {
                        let d = dist(at, xy[i]);
                        if best.is_none_or(|b| d < b.0) {
                            best = Some((d, c, k));
                        }
                    }
                }
            }
            // Every point within the ring's inner reach has been seen.
            if let Some(b) = best {
                if b.0 <= r as f64 * cw.min(ch) {
                    break;
                }
            }
            if r >= side {
                break;
            }
            r += 1;
        }
        let Some((_, c, k)) = best else { break };
        let i = cells[c].swap_remove(k);
        route.push(i);
        at = xy[i];
        left -= 1;
    }
    two_opt(&mut route, &xy, s, t0 + budget);
    route
}

/// 2-opt on an open route that starts at `s`: reverse `route[i+1..=j]` when that
/// shortens it, until no reversal helps or `deadline` passes.
fn two_opt(route: &mut [usize], xy: &[(f64, f64)], s: (f64, f64), deadline: Instant) {
    let n = route.len();
    let pos = |route: &[usize], k: usize| if k == 0 { s } else { xy[route[k - 1]] };
    // Positions 0..=n: 0 is the start, k >= 1 is route[k-1].
    let mut improved = true;
    while improved {
        improved = false;
        for i in 0..n.saturating_sub(1) {
            if Instant::now() > deadline {
                return;
            }
            let (a, b) = (pos(route, i), pos(route, i + 1));
            let ab = dist(a, b);
            for j in i + 2..=n {
                let c = pos(route, j);
                let delta = if j == n {
                    dist(a, c) - ab
                } else {
                    let d = pos(route, j + 1);
                    dist(a, c) + dist(b, d) - ab - dist(c, d)
                };
                if delta < -1e-6 {
                    route[i..j].reverse();
                    improved = true;
                    break;
                }
            }
        }
    }
}

/// The length in metres of the route `order` from `start` (straight lines).
pub fn length(points: &[Point], start: Point, order: &[usize]) -> f64 {
    let mut at = start;
    let mut total = 0.0;
    for &i in order {
        total += metres(at, points[i]);
        at = points[i];
    }
    total
}
