//! `/pkg`: the WASM (the page's, and the lazy islands'), its JavaScript and the CSS, precompressed when the release build made
//! them, cached for good when their names carry their hash.

use leptos::prelude::LeptosOptions;

use super::state::AppState;

/// `/pkg` (the WASM, its JavaScript and the CSS), brotli or gzip as the browser accepts:
/// the files `cargo leptos build --release --precompress` made, else compressed on the fly
/// by the router's compression layer. A file whose name carries its content's hash
/// (`hash-files`) is cached for a year and never revalidated; any other is revalidated by
/// `Last-Modified` on each use.
pub(crate) fn assets(options: &LeptosOptions) -> axum::routing::MethodRouter<AppState> {
    use axum::http::{HeaderValue, header::CACHE_CONTROL};
    use tower_http::services::ServeDir;
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let output_name = options.output_name.clone();
    let cache = axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let hashed = is_hashed_asset(request.uri().path(), &output_name);
            async move {
                let mut response = next.run(request).await;
                let policy = match hashed && response.status().is_success() {
                    true => ASSET_IMMUTABLE,
                    false => "no-cache",
                };
                response
                    .headers_mut()
                    .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
                response
            }
        },
    );
    axum::routing::get_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(cache)
}

/// How long a browser keeps an asset whose name carries its hash: a year, unrevalidated
/// (a new build has new names).
const ASSET_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether `path` (under `/pkg`) names a hashed asset, `<output>.<hash>.<ext>`, as
/// cargo-leptos's `hash-files` writes them.
fn is_hashed_asset(path: &str, output_name: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, rest)) = file.split_once('.') else {
        return false;
    };
    let ours = stem == output_name || SPLIT_PREFIXES.iter().any(|p| stem.starts_with(p));
    ours && rest
        .split_once('.')
        .is_some_and(|(hash, ext)| !hash.is_empty() && !ext.is_empty())
}

/// The names `cargo leptos build --split` gives the lazy islands' WASM (`split_…`), the
/// code they share (`chunk_…`) and their loader (`__wasm_split…`), each followed by its hash.
const SPLIT_PREFIXES: [&str; 3] = ["split_", "chunk_", "__wasm_split"];

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn only_names_with_a_hash_are_cached_for_good() {
        let out = "temporal-playground";
        assert!(is_hashed_asset("/temporal-playground.x3Fq_9-Ab.wasm", out));
        assert!(is_hashed_asset("/temporal-playground.x3Fq_9-Ab.css", out));
        assert!(!is_hashed_asset("/temporal-playground.wasm", out));
        assert!(!is_hashed_asset("/temporal-playground_bg.wasm", out));
        assert!(!is_hashed_asset("/temporal-playground..wasm", out));
        assert!(!is_hashed_asset("/other.x3Fq.wasm", out));
        // The lazy islands' files from `--split`.
        assert!(is_hashed_asset(
            "/split_resolve_form_loader_120.UBnU_j3.wasm",
            out
        ));
        assert!(is_hashed_asset("/chunk_11.UdwMhDid.wasm", out));
        assert!(is_hashed_asset("/__wasm_split.6T_MeeEl.js", out));
        assert!(!is_hashed_asset("/chunk_11.wasm", out));
    }
}
