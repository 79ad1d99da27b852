; Additions to the shipped Go tags: the receiver type of a method as its scope, structs and
; interfaces, their fields and methods, package-level constants and variables.

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [
        (type_identifier) @local.scope
        (pointer_type (type_identifier) @local.scope)
        (generic_type type: (type_identifier) @local.scope)
        (pointer_type (generic_type type: (type_identifier) @local.scope))
      ]))
  name: (field_identifier) @name) @definition.method

(type_spec name: (type_identifier) @name type: (struct_type)) @definition.class

(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface

(field_declaration name: (field_identifier) @name) @definition.field

(method_elem name: (field_identifier) @name) @definition.method

(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))

(source_file (var_declaration (var_spec name: (identifier) @name) @definition.variable))
