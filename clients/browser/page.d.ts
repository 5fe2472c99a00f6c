// The control-center page hands its outcome to the test through this global.
export {};
declare global {
    interface Window {
        signInResult?: import('./app.mjs').SignInResult;
    }
}
