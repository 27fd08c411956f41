//! Biểu đồ — a bar or line chart of one column against another, drawn on the server
//! as SVG (no script, no external asset), with the values also in a table for screen
//! readers.

use super::Lang;
use kho_vn::number as vn_number;
use maud::{html, Markup};

/// Bar or line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bar,
    Line,
}

impl Kind {
    pub fn parse(s: &str) -> Self {
        if s == "line" {
            Self::Line
        } else {
            Self::Bar
        }
    }
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 60.0;
const TOP: f64 = 15.0;

/// `1234567.0` → `1.234.567`; decimals with `,`.
/// The chart of `points` (label, value) as SVG with a caption, and the numbers in a
/// table headed in `l`.
pub fn svg(l: Lang, kind: Kind, points: &[(String, f64)], x_label: &str, y_label: &str, title: &str) -> Markup {
    let max = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let min = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::min);
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let plot_w = WIDTH - LEFT - 10.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let step = plot_w / points.len().max(1) as f64;
    let y = |v: f64| TOP + plot_h - (v - min) / span * plot_h;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let line: Vec<String> = points.iter().enumerate().map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v))).collect();
    let label_every = (points.len() / 12).max(1);
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
                aria-label=(title) style="max-width:100%;height:auto;background:#fff" {
                title { (title) }
                line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(TOP + plot_h) stroke="#5b6773" {}
                line x1=(LEFT) y1=(y(0.0_f64.max(min))) x2=(WIDTH - 10.0) y2=(y(0.0_f64.max(min))) stroke="#5b6773" {}
                @for frac in [0.0, 0.5, 1.0] {
                    @let v = min + span * frac;
                    text x=(LEFT - 6.0) y=(y(v) + 4.0) text-anchor="end" font-size="11" { (vn_number(v)) }
                }
                @match kind {
                    Kind::Bar => {
                        @for (i, (label, v)) in points.iter().enumerate() {
                            @let top = y(v.max(0.0));
                            @let bottom = y(0.0_f64.max(min));
                            rect.bar x=(format!("{:.1}", x(i) - step * 0.35)) y=(format!("{:.1}", top))
                                width=(format!("{:.1}", step * 0.7)) height=(format!("{:.1}", (bottom - top).abs().max(0.5)))
                                fill="#0b5cad" { title { (label) ": " (vn_number(*v)) } }
                        }
                    }
                    Kind::Line => {
                        polyline.line points=(line.join(" ")) fill="none" stroke="#8b1a1a" stroke-width="2" {}
                        @for (i, (label, v)) in points.iter().enumerate() {
                            circle cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y(*v))) r="3" fill="#8b1a1a" { title { (label) ": " (vn_number(*v)) } }
                        }
                    }
                }
                @for (i, (label, _)) in points.iter().enumerate() {
                    @if i % label_every == 0 {
                        text x=(format!("{:.1}", x(i))) y=(TOP + plot_h + 14.0) text-anchor="middle" font-size="10" {
                            (label.chars().take(14).collect::<String>())
                        }
                    }
                }
                text x=(LEFT + plot_w / 2.0) y=(HEIGHT - 8.0) text-anchor="middle" font-size="12" { (x_label) }
                text x="12" y=(TOP + plot_h / 2.0) text-anchor="middle" font-size="12"
                    transform={ "rotate(-90 12 " (TOP + plot_h / 2.0) ")" } { (y_label) }
            }
            figcaption.muted { (title) }
        }
        details {
            summary { (l.t("Số liệu", "The numbers")) }
            table.chart-data { tbody { @for (label, v) in points { tr { th scope="row" { (label) } td { (vn_number(*v)) } } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_a_point() {
        let points = vec![("A".to_string(), 10.0), ("B".to_string(), 30.0)];
        let bars = svg(Lang::Vi, Kind::Bar, &points, "x", "y", "t").into_string();
        assert_eq!(bars.matches("<rect class=\"bar\"").count(), 2);
        let line = svg(Lang::En, Kind::Line, &points, "x", "y", "t").into_string();
        assert_eq!(line.matches("<circle").count(), 2);
        assert!(line.contains("<polyline class=\"line\""));
        assert!(bars.contains("<summary>Số liệu</summary>") && line.contains("<summary>The numbers</summary>"));
    }
}
