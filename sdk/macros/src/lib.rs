//! The `#[preprocessor]`, `#[model]`, `#[params]` and `#[artifact]` attributes of `mmm-sdk`.
//!
//! Use them through `mmm_sdk` (they expand to paths under `::mmm_sdk`). On
//! `wasm32` the first two generate the component bindings for their world
//! and export the plugin; on other targets they only check the item, so the
//! author's code stays testable with `cargo test`.

mod meta;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn, ItemImpl, ReturnType, Type, parse_macro_input};

use meta::PluginMeta;

/// The contract, embedded so each plugin generates exactly its own world.
const WIT: &str = include_str!("../../wit/plugin.wit");

/// Exports a function `fn(Table, P) -> Result<Table>` as a preprocessor plugin.
///
/// Arguments: `name` (kebab-case) and `version` (semver) are required;
/// `description` and `author` default to the package's. `P` is the params
/// type (see `#[params]`). Only one plugin may be exported per crate.
#[proc_macro_attribute]
pub fn preprocessor(attr: TokenStream, item: TokenStream) -> TokenStream {
    let meta = parse_macro_input!(attr with PluginMeta::parse);
    let item = parse_macro_input!(item as Item);
    expand_preprocessor(&meta, item)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Exports an `impl Model for YourType { ... }` as a model plugin.
///
/// Takes the same arguments as `#[preprocessor]`.
#[proc_macro_attribute]
pub fn model(attr: TokenStream, item: TokenStream) -> TokenStream {
    let meta = parse_macro_input!(attr with PluginMeta::parse);
    let item = parse_macro_input!(item as Item);
    expand_model(&meta, item)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Makes a struct or enum usable as plugin params: derives `Deserialize`
/// and `JsonSchema` through the SDK's own serde and schemars, so the plugin
/// crate needs no dependency but `mmm-sdk`. `#[serde(...)]` and
/// `#[schemars(...)]` attributes on it and its fields work as usual.
#[proc_macro_attribute]
pub fn params(attr: TokenStream, item: TokenStream) -> TokenStream {
    derive_through_sdk(
        "params",
        attr,
        item,
        quote! {
            #[derive(::mmm_sdk::serde::Deserialize, ::mmm_sdk::schemars::JsonSchema)]
            #[serde(crate = "::mmm_sdk::serde")]
            #[schemars(crate = "::mmm_sdk::schemars")]
        },
    )
}

/// Makes a struct or enum usable as a model's artifact: derives `Serialize`
/// and `Deserialize` through the SDK's own serde.
#[proc_macro_attribute]
pub fn artifact(attr: TokenStream, item: TokenStream) -> TokenStream {
    derive_through_sdk(
        "artifact",
        attr,
        item,
        quote! {
            #[derive(::mmm_sdk::serde::Serialize, ::mmm_sdk::serde::Deserialize)]
            #[serde(crate = "::mmm_sdk::serde")]
        },
    )
}

fn derive_through_sdk(
    name: &str,
    attr: TokenStream,
    item: TokenStream,
    derives: TokenStream2,
) -> TokenStream {
    if !attr.is_empty() {
        let attr = TokenStream2::from(attr);
        let msg = format!("#[{name}] takes no arguments");
        return syn::Error::new(attr.span(), msg).to_compile_error().into();
    }
    let item = parse_macro_input!(item as Item);
    if !matches!(item, Item::Struct(_) | Item::Enum(_)) {
        let msg = format!("#[{name}] goes on a struct or an enum");
        return syn::Error::new(item.span(), msg).to_compile_error().into();
    }
    quote!(#derives #item).into()
}

const PREPROCESSOR_SHAPE: &str =
    "#[preprocessor] goes on a function `fn(data: Table, params: P) -> Result<Table>`";

fn expand_preprocessor(meta: &PluginMeta, item: Item) -> syn::Result<TokenStream2> {
    let Item::Fn(func) = item else {
        return Err(syn::Error::new(item.span(), PREPROCESSOR_SHAPE));
    };
    let params_ty = check_preprocessor_signature(&func)?;
    let ident = &func.sig.ident;
    let sig_span = func.sig.span();
    let signature_check = quote_spanned! {sig_span=>
        const _: fn(::mmm_sdk::Table, #params_ty) -> ::mmm_sdk::Result<::mmm_sdk::Table> = #ident;
    };
    let params_check = assert_bound(params_ty, quote!(::mmm_sdk::Params));
    let bindings = bindings("preprocessor");
    let meta = meta.to_tokens();
    Ok(quote! {
        #func
        #signature_check
        #params_check

        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, clippy::all)]
        mod __mmm_sdk_exported_plugin {
            #bindings
            const META: ::mmm_sdk::__private::Meta = #meta;
            struct Plugin;
            impl Guest for Plugin {
                fn info() -> ::mmm_sdk::__private::bindings::mmm::plugin::types::PluginInfo {
                    ::mmm_sdk::__private::preprocessor_info(super::#ident, &META).into()
                }
                fn transform(
                    input: ::std::vec::Vec<u8>,
                    params: ::std::string::String,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<u8>,
                    ::mmm_sdk::__private::bindings::mmm::plugin::types::PluginError,
                > {
                    ::mmm_sdk::__private::transform(input, &params, super::#ident)
                        .map_err(::core::convert::Into::into)
                }
            }
            export!(Plugin);
        }
    })
}

/// Checks the shape the type system cannot point at well; returns the params type.
fn check_preprocessor_signature(func: &ItemFn) -> syn::Result<&Type> {
    let sig = &func.sig;
    if let Some(asyncness) = sig.asyncness {
        return Err(syn::Error::new(
            asyncness.span(),
            "a preprocessor cannot be async",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a preprocessor cannot be generic; name the params type",
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.ident.span(),
            "a preprocessor returns `Result<Table>`",
        ));
    }
    let args: Vec<&FnArg> = sig.inputs.iter().collect();
    match args.as_slice() {
        [FnArg::Typed(_), FnArg::Typed(params)] => Ok(&params.ty),
        [FnArg::Receiver(r), ..] | [_, FnArg::Receiver(r)] => Err(syn::Error::new(
            r.span(),
            "a preprocessor is a free function, not a method",
        )),
        _ => Err(syn::Error::new(
            if sig.inputs.is_empty() {
                sig.ident.span()
            } else {
                sig.inputs.span()
            },
            format!(
                "{PREPROCESSOR_SHAPE}; it takes exactly two arguments (use `NoParams` if it needs none)"
            ),
        )),
    }
}

fn expand_model(meta: &PluginMeta, item: Item) -> syn::Result<TokenStream2> {
    const SHAPE: &str = "#[model] goes on `impl Model for YourType { ... }`";
    let Item::Impl(imp) = item else {
        return Err(syn::Error::new(item.span(), SHAPE));
    };
    let ItemImpl {
        trait_,
        self_ty,
        generics,
        ..
    } = &imp;
    let Some((None, trait_path, _)) = trait_ else {
        return Err(syn::Error::new(self_ty.span(), SHAPE));
    };
    if !generics.params.is_empty() {
        return Err(syn::Error::new(
            generics.span(),
            "a model plugin cannot be generic; export one concrete type",
        ));
    }
    let model_check = {
        let span = trait_path.span();
        quote_spanned! {span=>
            const _: () = {
                fn assert_model<M: ::mmm_sdk::Model>() {}
                let _ = assert_model::<#self_ty>;
            };
        }
    };
    let bindings = bindings("model");
    let meta = meta.to_tokens();
    Ok(quote! {
        #imp
        #model_check

        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        type __MmmSdkExportedModel = #self_ty;

        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, clippy::all)]
        mod __mmm_sdk_exported_plugin {
            #bindings
            use ::mmm_sdk::__private::bindings::mmm::plugin::types as wit;
            type M = super::__MmmSdkExportedModel;
            const META: ::mmm_sdk::__private::Meta = #meta;
            struct Plugin;
            impl Guest for Plugin {
                fn info() -> wit::PluginInfo {
                    ::mmm_sdk::__private::model_info::<M>(&META).into()
                }
                fn fit(
                    input: ::std::vec::Vec<u8>,
                    roles: wit::Roles,
                    params: ::std::string::String,
                    experiments: ::std::vec::Vec<wit::Experiment>,
                ) -> ::core::result::Result<wit::FitOutput, wit::PluginError> {
                    ::mmm_sdk::__private::experiments_from_wit(experiments)
                        .and_then(|experiments| {
                            ::mmm_sdk::__private::fit::<M>(input, roles.into(), &params, experiments)
                        })
                        .map(::core::convert::Into::into)
                        .map_err(::core::convert::Into::into)
                }
                fn predict(
                    artifact: ::std::vec::Vec<u8>,
                    scenarios: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, wit::PluginError> {
                    ::mmm_sdk::__private::predict::<M>(&artifact, scenarios)
                        .map_err(::core::convert::Into::into)
                }
            }
            export!(Plugin);
        }
    })
}

/// A compile-time `ty: bound` check whose error points at `ty`.
fn assert_bound(ty: &Type, bound: TokenStream2) -> TokenStream2 {
    let span = ty.span();
    quote_spanned! {span=>
        const _: () = {
            fn assert_bound<T: #bound>() {}
            let _ = assert_bound::<#ty>;
        };
    }
}

/// The world's bindings, sharing the SDK's `types` and `host` modules.
fn bindings(world: &str) -> TokenStream2 {
    let world = format!("mmm:plugin/{world}@0.2.0");
    let wit = syn::LitStr::new(WIT, Span::call_site());
    quote! {
        ::mmm_sdk::__private::wit_bindgen::generate!({
            inline: #wit,
            world: #world,
            runtime_path: "::mmm_sdk::__private::wit_bindgen::rt",
            with: {
                "mmm:plugin/types@0.2.0": ::mmm_sdk::__private::bindings::mmm::plugin::types,
                "mmm:plugin/host@0.2.0": ::mmm_sdk::__private::bindings::mmm::plugin::host,
            },
        });
    }
}
