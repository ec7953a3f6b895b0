# Checks a Home Manager configuration's values against the option index
# (src/home/data/hm-options.tsv, turned into a tree by tests/home_migrate.rs):
# every name directly under a namespace such as `programs.git` must be an
# option, and every value must have its option's type (as far as the type's
# outer name tells). Evaluated with `nix-instantiate --eval --strict`; a
# wrong name or type is an evaluation error that names the option.
{ tree, config }:
let
  # Types whose values may hold any keys.
  open = [ "attrsOf" "lazyAttrsOf" "anything" "attrs" "unspecified" "raw" "either" "oneOf" "nullOr" "dagOf" "coercedTo" "submodule" "package" "functionTo" "unique" ];
  ok = type: v:
    if builtins.elem type [ "str" "lines" "separatedString" "nonEmptyStr" "singleLineStr" "enum" ] then builtins.isString v
    else if type == "bool" then builtins.isBool v
    else if builtins.elem type [ "int" "unsignedInt" "unsignedInt16" "positiveInt" "intBetween" ] then builtins.isInt v
    else if type == "float" || type == "numberBetween" then builtins.isFloat v || builtins.isInt v
    else if type == "listOf" then builtins.isList v
    else if builtins.elem type [ "attrsOf" "lazyAttrsOf" "attrs" "submodule" "dagOf" ] then builtins.isAttrs v
    else if type == "path" then builtins.isPath v || builtins.isString v
    else true;
  join = path: k: if path == "" then k else "${path}.${k}";
  check = path: node: v:
    let
      type = node.__type or null;
      subs = removeAttrs node [ "__type" ];
    in
    if type != null && !(ok type v) then throw "${path}: expected ${type}, got ${builtins.typeOf v}"
    else if builtins.isList v && subs ? "*" then builtins.all (e: check "${path}.*" subs."*" e) v
    else if builtins.isAttrs v && !(v ? outPath) && subs != { } && !(node.__freeform or false) then
      builtins.all
        (k:
          if subs ? ${k} then check (join path k) subs.${k} v.${k}
          else if subs ? "<name>" then check (join path k) subs."<name>" v.${k}
          else if type != null && builtins.elem type open then true
          else throw "${join path k}: no such option")
        (builtins.attrNames v)
    else true;
in
check "" tree config
