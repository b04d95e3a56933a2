/*
 * opcodes.h — the bytecode instruction set, listed once.
 *
 * Include with OP defined as OP(name, operand_bytes, stack_effect, synopsis)
 * to build the opcode enum, the name table, the operand-size table and the
 * disassembler. Operands are little-endian u16 unless noted. The VM is a
 * stack machine over sl_value; an instruction that meets an operand of the
 * wrong kind or a missing attribute stops the rule with an evaluation error.
 */
/*  name          operand bytes  stack  synopsis                                    */
OP(CONST,         2,  +1, "push constant #k")
OP(TRUE,          0,  +1, "push true")
OP(FALSE,         0,  +1, "push false")
OP(SUBJECT,       2,  +1, "push subject attribute slot #k (missing if absent)")
OP(CONTEXT,       2,  +1, "push context attribute slot #k (missing if absent)")
OP(PRODUCT,       2,  +1, "push product attribute slot #k")
OP(PORT,          2,  +1, "push port attribute slot #k")
OP(COLUMN,        2,  +1, "push column attribute slot #k")
OP(SFACT,         2,  +1, "push subject fact #k, decided when the subject was resolved")
OP(CFACT,         2,  +1, "push context fact #k, decided when the context was resolved")
OP(ACTION,        0,  +1, "push the requested action")
OP(NOW,           0,  +1, "push the request clock")
OP(EQ,            0,  -1, "a b -> a == b")
OP(NE,            0,  -1, "a b -> a != b")
OP(LT,            0,  -1, "a b -> a < b (int, duration, timestamp)")
OP(LE,            0,  -1, "a b -> a <= b")
OP(GT,            0,  -1, "a b -> a > b")
OP(GE,            0,  -1, "a b -> a >= b")
OP(IN,            0,  -1, "x S -> x is a member of set S")
OP(HAS,           0,  -1, "S x -> x is a member of set S")
OP(MATCHES,       2,   0, "s -> regex #k finds a match in s")
OP(LIKE,          0,  -1, "s p -> s matches glob p")
OP(ADD,           0,  -1, "a b -> a + b (checked)")
OP(SUB,           0,  -1, "a b -> a - b (checked)")
OP(NEG,           0,   0, "a -> -a (checked)")
OP(NOT,           0,   0, "b -> not b")
OP(PRESENT,       0,   0, "v -> v is not missing (never an error)")
OP(CALL,          3,   0, "call builtin #k (u16) with n (u8) args: pops n, pushes 1")
OP(JUMP_IF_FALSE, 2,   0, "if top is false jump +k keeping it, else pop; error if not bool")
OP(JUMP_IF_TRUE,  2,   0, "if top is true jump +k keeping it, else pop; error if not bool")
OP(RET,           0,  -1, "return top (must be bool)")
