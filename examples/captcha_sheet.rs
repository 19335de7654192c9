//! A sheet of fresh captchas, as people get them, to look at: `cargo run --example
//! captcha_sheet -- OUT.png [N]` draws N (12) of them under one another, each with its
//! answer in the file name's list printed on stdout.

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "captchas.png".into());
    let n: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(12);
    let (w, h) = (unicas::captcha::WIDTH, unicas::captcha::HEIGHT);
    let mut sheet = image::GrayImage::from_pixel(w, (h + 10) * n, image::Luma([255]));
    for i in 0..n {
        let answer = unicas::captcha::answer();
        let png = unicas::captcha::draw(
            &answer,
            &unicas::captcha::Distortion::PEOPLE,
            &mut rand::rng(),
        );
        let one = image::load_from_memory(&png).unwrap().to_luma8();
        image::imageops::overlay(&mut sheet, &one, 0, i64::from(i * (h + 10)));
        println!("{i}: {answer}");
    }
    sheet.save(&out).unwrap();
}
