//! The image captcha: four characters a person reads and a script should not. Each glyph is
//! drawn in one of four fonts (DejaVu subsets in `assets/captcha/`), at its own size, turned,
//! sheared and set at its own height, close enough to touch its neighbours; curves in the
//! same ink cross the glyphs, the whole is waved and speckled. The alphabet leaves out the
//! characters people confuse (0/O/Q/D, 1/I/L, 2/Z, 5/S, 6/G, 8/B, U/V, and F, which a curve
//! across its foot makes an E); answers are read without regard to case. Drawing takes well
//! under a millisecond and a small buffer. A template matcher in the tests reads most plain
//! renderings of these glyphs and none of the captchas people get.

use ab_glyph::{Font, FontRef, PxScale};
use rand::{rngs::OsRng, Rng, TryRngCore};
use std::sync::OnceLock;

/// The characters drawn.
pub const ALPHABET: &[u8] = b"ACEHJKMNPRTWXY3479";
/// Characters in one captcha.
pub const LENGTH: usize = 4;
pub const WIDTH: u32 = 180;
pub const HEIGHT: u32 = 64;

const FONT_FILES: [&[u8]; 4] = [
    include_bytes!("../assets/captcha/DejaVuSans-Bold.ttf"),
    include_bytes!("../assets/captcha/DejaVuSansCondensed-Bold.ttf"),
    include_bytes!("../assets/captcha/DejaVuSansMono-Bold.ttf"),
    include_bytes!("../assets/captcha/DejaVuSerif-Bold.ttf"),
];

/// The fonts glyphs are drawn in (a solver in the tests knows them too, as an attacker with
/// the source would).
pub fn fonts() -> &'static [FontRef<'static>] {
    static FONTS: OnceLock<Vec<FontRef<'static>>> = OnceLock::new();
    FONTS.get_or_init(|| {
        FONT_FILES
            .iter()
            .map(|f| FontRef::try_from_slice(f).expect("the captcha's fonts are built in"))
            .collect()
    })
}

/// How far each kind of distortion goes. `PEOPLE` is what people get; `NONE` draws upright
/// glyphs apart, with nothing across them (for the tests' check that their solver reads
/// what it should).
#[derive(Clone, Copy, Debug)]
pub struct Distortion {
    /// Most a glyph is turned either way, in degrees.
    pub turn: f32,
    /// Most a glyph is sheared either way (a fraction of its height).
    pub shear: f32,
    /// Glyph sizes in pixels, smallest and largest.
    pub sizes: (f32, f32),
    /// How much of its width a glyph shares with the next one.
    pub overlap: f32,
    /// Most a glyph is raised or lowered, in pixels.
    pub lift: f32,
    /// Curves drawn across the glyphs.
    pub curves: usize,
    /// The wave's amplitude in pixels.
    pub wave: f32,
    /// The share of pixels speckled.
    pub speckle: f32,
}

impl Distortion {
    pub const PEOPLE: Distortion = Distortion {
        turn: 25.0,
        shear: 0.2,
        sizes: (42.0, 50.0),
        overlap: 0.1,
        lift: 4.0,
        curves: 2,
        wave: 2.5,
        speckle: 0.02,
    };

    pub const NONE: Distortion = Distortion {
        turn: 0.0,
        shear: 0.0,
        sizes: (46.0, 46.0),
        overlap: -0.1,
        lift: 0.0,
        curves: 0,
        wave: 0.0,
        speckle: 0.0,
    };
}

/// A new answer, from the operating system's random source.
pub fn answer() -> String {
    // Rejection sampling: every character equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    (0..LENGTH)
        .map(|_| loop {
            let mut b = [0u8; 1];
            OsRng
                .try_fill_bytes(&mut b)
                .expect("operating system RNG unavailable");
            if (b[0] as usize) < limit {
                break ALPHABET[b[0] as usize % ALPHABET.len()] as char;
            }
        })
        .collect()
}

/// Draws `answer` (characters of `ALPHABET`) as a grey PNG of `WIDTH` × `HEIGHT`.
pub fn draw(answer: &str, d: &Distortion, rng: &mut impl Rng) -> Vec<u8> {
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut ink = vec![0f32; w * h];
    let glyphs: Vec<Glyph> = answer.chars().map(|c| Glyph::raster(c, d, rng)).collect();
    // Spread the glyphs over the width, each overlapping the next by `overlap` of its width.
    let widths: Vec<f32> = glyphs
        .iter()
        .map(|g| g.w as f32 * (1.0 - d.overlap))
        .collect();
    let total: f32 = widths.iter().sum();
    let squeeze = ((w as f32 - 16.0) / total).min(1.0);
    let mut x = (w as f32 - total * squeeze) / 2.0;
    for (g, advance) in glyphs.iter().zip(&widths) {
        let centre = (
            x + advance * squeeze / 2.0,
            h as f32 / 2.0 + rng.random_range(-1.0..=1.0) * d.lift,
        );
        g.stamp(&mut ink, w, h, centre, d, rng);
        x += advance * squeeze;
    }
    for _ in 0..d.curves {
        curve(&mut ink, w, h, rng);
    }
    let ink = wave(&ink, w, h, d.wave, rng);
    let (paper, pen) = (
        rng.random_range(232.0..250.0f32),
        rng.random_range(20.0..70.0f32),
    );
    let mut image = image::GrayImage::new(WIDTH, HEIGHT);
    for (i, p) in image.pixels_mut().enumerate() {
        let mut v = ink[i].clamp(0.0, 1.0);
        if d.speckle > 0.0 && rng.random::<f32>() < d.speckle {
            v = (v + rng.random_range(0.3..0.8)).min(1.0);
        }
        p.0[0] = (paper * (1.0 - v) + pen * v) as u8;
    }
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("a PNG of a grey buffer always encodes");
    png
}

/// One glyph drawn upright into its own buffer of coverage (0 to 1).
struct Glyph {
    w: usize,
    h: usize,
    coverage: Vec<f32>,
}

impl Glyph {
    fn raster(c: char, d: &Distortion, rng: &mut impl Rng) -> Glyph {
        let fonts = fonts();
        let font = &fonts[rng.random_range(0..fonts.len())];
        let size = rng.random_range(d.sizes.0..=d.sizes.1);
        let glyph = font.glyph_id(c).with_scale(PxScale::from(size));
        let Some(outline) = font.outline_glyph(glyph) else {
            return Glyph {
                w: 1,
                h: 1,
                coverage: vec![0.0],
            };
        };
        let bounds = outline.px_bounds();
        let (w, h) = (
            bounds.width().ceil() as usize + 1,
            bounds.height().ceil() as usize + 1,
        );
        let mut coverage = vec![0f32; w * h];
        outline.draw(|x, y, c| {
            let (x, y) = (x as usize, y as usize);
            if x < w && y < h {
                coverage[y * w + x] = c;
            }
        });
        Glyph { w, h, coverage }
    }

    fn sample(&self, x: f32, y: f32) -> f32 {
        bilinear(&self.coverage, self.w, self.h, x, y)
    }

    /// Turns, shears and sets the glyph with its centre at `centre`.
    fn stamp(
        &self,
        ink: &mut [f32],
        w: usize,
        h: usize,
        centre: (f32, f32),
        d: &Distortion,
        rng: &mut impl Rng,
    ) {
        let angle = rng.random_range(-1.0..=1.0f32) * d.turn.to_radians();
        let shear = rng.random_range(-1.0..=1.0f32) * d.shear;
        let (sin, cos) = angle.sin_cos();
        let (gx, gy) = (self.w as f32 / 2.0, self.h as f32 / 2.0);
        let reach = (gx * gx + gy * gy).sqrt() * (1.0 + shear.abs()) + 2.0;
        let (x0, x1) = (
            (centre.0 - reach).max(0.0) as usize,
            ((centre.0 + reach) as usize).min(w - 1),
        );
        let (y0, y1) = (
            (centre.1 - reach).max(0.0) as usize,
            ((centre.1 + reach) as usize).min(h - 1),
        );
        for y in y0..=y1 {
            for x in x0..=x1 {
                // From the canvas back into the glyph: undo the turn, then the shear.
                let (dx, dy) = (x as f32 - centre.0, y as f32 - centre.1);
                let (rx, ry) = (cos * dx + sin * dy, -sin * dx + cos * dy);
                let (sx, sy) = (rx - shear * ry, ry);
                let c = self.sample(sx + gx, sy + gy);
                let cell = &mut ink[y * w + x];
                *cell = cell.max(c);
            }
        }
    }
}

/// A curve from the left edge to the right through a random middle, about as thick as the
/// glyphs' strokes are thin, in the same ink.
fn curve(ink: &mut [f32], w: usize, h: usize, rng: &mut impl Rng) {
    let (wf, hf) = (w as f32, h as f32);
    let p0 = (
        rng.random_range(0.0..wf * 0.15),
        rng.random_range(hf * 0.2..hf * 0.8),
    );
    let p1 = (
        rng.random_range(wf * 0.3..wf * 0.7),
        rng.random_range(-hf * 0.2..hf * 1.2),
    );
    let p2 = (
        rng.random_range(wf * 0.85..wf),
        rng.random_range(hf * 0.2..hf * 0.8),
    );
    let radius = rng.random_range(0.6..1.0f32);
    for step in 0..=400 {
        let t = step as f32 / 400.0;
        let u = 1.0 - t;
        let x = u * u * p0.0 + 2.0 * u * t * p1.0 + t * t * p2.0;
        let y = u * u * p0.1 + 2.0 * u * t * p1.1 + t * t * p2.1;
        let r = radius.ceil() as i32 + 1;
        for oy in -r..=r {
            for ox in -r..=r {
                let (px, py) = (x as i32 + ox, y as i32 + oy);
                if px < 0 || py < 0 || px >= w as i32 || py >= h as i32 {
                    continue;
                }
                let dist = ((px as f32 - x).powi(2) + (py as f32 - y).powi(2)).sqrt();
                let c = (radius + 0.5 - dist).clamp(0.0, 1.0);
                let cell = &mut ink[py as usize * w + px as usize];
                *cell = cell.max(c);
            }
        }
    }
}

/// Moves each column up or down along a sine of random phase and period.
fn wave(ink: &[f32], w: usize, h: usize, amplitude: f32, rng: &mut impl Rng) -> Vec<f32> {
    if amplitude == 0.0 {
        return ink.to_vec();
    }
    let period = rng.random_range(40.0..90.0f32);
    let phase = rng.random_range(0.0..std::f32::consts::TAU);
    let mut out = vec![0f32; w * h];
    for x in 0..w {
        let shift = amplitude * (x as f32 / period * std::f32::consts::TAU + phase).sin();
        for y in 0..h {
            out[y * w + x] = bilinear(ink, w, h, x as f32, y as f32 + shift);
        }
    }
    out
}

/// `values` (`w` × `h`) at a point between pixels; 0 outside.
fn bilinear(values: &[f32], w: usize, h: usize, x: f32, y: f32) -> f32 {
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return 0.0;
    }
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |x: usize, y: usize| values[y * w + x];
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_has_a_glyph_in_every_font() {
        for font in fonts() {
            for &c in ALPHABET {
                assert!(
                    font.outline_glyph(font.glyph_id(c as char).with_scale(40.0))
                        .is_some(),
                    "{}",
                    c as char
                );
            }
        }
    }

    #[test]
    fn answers_are_four_characters_of_the_alphabet() {
        for _ in 0..200 {
            let a = answer();
            assert_eq!(a.len(), LENGTH);
            assert!(a.bytes().all(|b| ALPHABET.contains(&b)), "{a}");
        }
    }

    #[test]
    fn a_captcha_is_a_png_of_its_size() {
        let png = draw("AC37", &Distortion::PEOPLE, &mut rand::rng());
        let image = image::load_from_memory(&png).unwrap();
        assert_eq!((image.width(), image.height()), (WIDTH, HEIGHT));
    }
}
